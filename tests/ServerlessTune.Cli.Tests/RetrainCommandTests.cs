namespace ServerlessTune.Cli.Tests;

/// <summary>`stune retrain` as users run it, when nothing is due (the run it starts is in the serving end-to-end test).</summary>
public sealed class RetrainCommandTests : IDisposable
{
    readonly string store = Directory.CreateTempSubdirectory("stune-retrain-").FullName;

    public void Dispose() => Directory.Delete(store, recursive: true);

    [Fact]
    public void Nothing_due_says_so_per_project_and_exits_0()
    {
        var empty = Stune.Run("retrain", "--store", store);
        Assert.True(empty.ExitCode == 0, empty.Stderr);
        Assert.Equal($"no project has a dataset folder in {store}\nnothing to retrain\n", empty.Stdout);

        Directory.CreateDirectory(Path.Combine(store, "datasets", "acme"));
        File.WriteAllText(Path.Combine(store, "datasets", "acme", "pipeline.json"), """{ "feedback": { "retrain_after": 2 } }""");
        File.WriteAllText(Path.Combine(store, "datasets", "acme", "faq.csv"), "question,answer\nq,a\n");
        Directory.CreateDirectory(Path.Combine(store, "datasets", "typo"));
        File.WriteAllText(Path.Combine(store, "datasets", "typo", "pipeline.json"), """{ "feedback": { "retrain_afterr": 2 } }""");

        var result = Stune.Run("retrain", "--store", store);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var lines = result.Stdout.Split('\n');
        Assert.Equal("acme: not due: 0 conversation(s) rated in the log (no run has read it yet), retrain_after 2", lines[0]);
        Assert.StartsWith("typo: not due: datasets/typo/pipeline.json: feedback: retrain_afterr: unknown key", lines[1]);
        Assert.Equal(["nothing to retrain", ""], lines[2..]);
    }

    [Fact]
    public void A_bad_project_name_is_one_line_and_exit_1()
    {
        var result = Stune.Run("retrain", "--store", store, "--project", "../etc");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Stdout);
        Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.Contains("project", result.Stderr);
    }
}
