using ServerlessTune.Core;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Tests.Storage;

public sealed class LocalFolderStoreTests : IDisposable
{
    readonly string _root = Directory.CreateTempSubdirectory("stune-store-").FullName;
    readonly LocalFolderStore _store;

    public LocalFolderStoreTests() => _store = new LocalFolderStore(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Written_text_reads_back_and_lists_in_ordinal_order()
    {
        await _store.WriteAllTextAsync("runs/r1/b.json", "{\"b\":1}");
        await _store.WriteAllTextAsync("runs/r1/a.json", "{\"a\":1}");
        await _store.WriteAllTextAsync("runs/r10/c.json", "c");

        Assert.Equal("{\"a\":1}", await _store.ReadAllTextAsync("runs/r1/a.json"));
        var listed = new List<string>();
        await foreach (var item in _store.ListAsync("runs/r1/")) listed.Add(item.Path);
        Assert.Equal(new[] { "runs/r1/a.json", "runs/r1/b.json" }, listed);
    }

    [Fact]
    public async Task A_failed_write_leaves_the_previous_content_and_no_temporary_file()
    {
        await _store.WriteAllTextAsync("prepared/x/stats.json", "old");
        await Assert.ThrowsAsync<InvalidOperationException>(() => _store.WriteAsync("prepared/x/stats.json", async (s, ct) =>
        {
            await s.WriteAsync("partial"u8.ToArray(), ct);
            throw new InvalidOperationException("crash mid-write");
        }));
        Assert.Equal("old", await _store.ReadAllTextAsync("prepared/x/stats.json"));
        Assert.Single(Directory.GetFiles(Path.Combine(_root, "prepared/x")));
    }

    [Theory]
    [InlineData("../escape.txt")]
    [InlineData("datasets/../../etc/passwd")]
    [InlineData("/etc/passwd")]
    [InlineData("datasets\\..\\x")]
    [InlineData("datasets//x")]
    [InlineData("datasets/./x")]
    [InlineData("C:/x")]
    [InlineData("datasets/a\u0000b")]
    [InlineData("")]
    public async Task Paths_that_could_escape_the_root_are_refused(string path)
    {
        var error = await Assert.ThrowsAsync<UserInputException>(() => _store.WriteAllTextAsync(path, "x"));
        Assert.StartsWith("invalid artifact path", error.Message);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(_root)!, "escape.txt"));
    }

    [Fact]
    public async Task Reading_a_missing_artifact_names_it()
    {
        var error = await Assert.ThrowsAsync<ArtifactNotFoundException>(() => _store.ReadAllTextAsync("reports/r/report.json"));
        Assert.Contains("reports/r/report.json", error.Message);
    }

    [Fact]
    public async Task Folders_round_trip_through_upload_and_download()
    {
        string source = Path.Combine(_root, "..", Path.GetFileName(_root) + "-src");
        Directory.CreateDirectory(Path.Combine(source, "sub"));
        File.WriteAllBytes(Path.Combine(source, "model.safetensors"), new byte[] { 1, 2, 3 });
        File.WriteAllText(Path.Combine(source, "sub", "config.json"), "{}");
        try
        {
            Assert.Equal(2, await _store.UploadFolderAsync(source, "runs/r/merged"));
            string target = Path.Combine(_root, "download");
            Assert.Equal(2, await _store.DownloadFolderAsync("runs/r/merged", target));
            Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(Path.Combine(target, "model.safetensors")));
            Assert.Equal("{}", File.ReadAllText(Path.Combine(target, "sub", "config.json")));
        }
        finally { Directory.Delete(source, recursive: true); }
    }

    [Theory]
    [InlineData("acme-support", true)]
    [InlineData("a.b_c", true)]
    [InlineData("..", false)]
    [InlineData("a/b", false)]
    [InlineData("", false)]
    public void Project_names_are_single_safe_segments(string name, bool valid)
    {
        if (valid) Assert.Equal(name, ArtifactPath.ValidateName(name, "project"));
        else Assert.Throws<UserInputException>(() => ArtifactPath.ValidateName(name, "project"));
    }
}
