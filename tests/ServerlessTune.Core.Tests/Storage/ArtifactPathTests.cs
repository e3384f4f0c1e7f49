using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Tests.Storage;

// The stores' behaviour (atomic writes, listing, traversal refused) is one contract run against the local
// folder store and Azurite: tests/ServerlessTune.Workflow.Tests/Storage/ArtifactStoreContract.cs.
public sealed class ArtifactPathTests
{
    [Theory]
    [InlineData("acme-support", true)]
    [InlineData("a.b_c", true)]
    [InlineData("..", false)]
    [InlineData("a/b", false)]
    [InlineData("", false)]
    [InlineData("name with space", false)]
    public void Project_names_are_single_safe_segments(string name, bool valid)
    {
        if (valid) Assert.Equal(name, ArtifactPath.ValidateName(name, "project"));
        else Assert.Equal($"invalid project '{name}': use 1-63 letters, digits, '-', '_' or '.'",
            Assert.Throws<UserInputException>(() => ArtifactPath.ValidateName(name, "project")).Message);
    }

    [Theory]
    [InlineData("datasets/acme/faq.csv", true)]
    [InlineData("datasets/acme/trailing.", false)]
    [InlineData("datasets/acme/", false)]
    public void Paths_are_relative_segments_without_tricks(string path, bool valid) =>
        Assert.Equal(valid, ArtifactPath.IsValid(path));
}
