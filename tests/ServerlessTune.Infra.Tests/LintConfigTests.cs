namespace ServerlessTune.Infra.Tests;

/// <summary>infra/bicepconfig.json turns linter findings into errors, so `bicep lint` in CI fails on them.</summary>
public sealed class LintConfigTests
{
    [Fact]
    public void A_finding_under_the_repository_config_fails_the_lint()
    {
        string folder = Directory.CreateTempSubdirectory("stune-lint-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "unused.bicep"), "param unused string\n");
            var result = Bicep.Run(folder, null, "lint", "unused.bicep", "--config", Path.Combine(Repository.Infra, "bicepconfig.json"));
            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains("Error no-unused-params", result.Stderr + result.Stdout);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
