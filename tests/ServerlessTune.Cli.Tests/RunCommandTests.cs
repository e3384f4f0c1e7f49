namespace ServerlessTune.Cli.Tests;

// The full run is exercised end to end by the pipeline tests and by CI's main job (`stune run samples/harbor-fiber`);
// these check what `stune run` refuses before any work starts.
public sealed class RunCommandTests : IDisposable
{
    readonly string _root = Directory.CreateTempSubdirectory("stune-run-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void A_missing_dataset_folder_is_a_user_error_naming_it()
    {
        string missing = Path.Combine(_root, "nope");
        var result = Stune.Run("run", missing, "--store", Path.Combine(_root, "store"));
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Stdout);
        Assert.Contains($"{missing}: dataset folder not found", result.Stderr);
    }

    [Fact]
    public void A_pipeline_json_with_an_unknown_key_fails_before_anything_is_stored()
    {
        string dataset = Directory.CreateDirectory(Path.Combine(_root, "acme")).FullName;
        File.WriteAllText(Path.Combine(dataset, "faq.csv"), "question,answer\nHow do I reset it?,Hold the button.\n");
        File.WriteAllText(Path.Combine(dataset, "pipeline.json"), """{ "trian": { "epochs": 1 } }""");
        string store = Path.Combine(_root, "store");

        var result = Stune.Run("run", dataset, "--store", store);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Stdout);
        Assert.Contains("trian", result.Stderr);
        Assert.False(Directory.Exists(Path.Combine(store, "datasets")));
    }

    [Fact]
    public void A_project_name_that_is_not_a_safe_segment_is_refused()
    {
        string dataset = Directory.CreateDirectory(Path.Combine(_root, "data")).FullName;
        var result = Stune.Run("run", dataset, "--project", "../escape", "--store", Path.Combine(_root, "store"));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("invalid project '../escape'", result.Stderr);
    }

    [Fact]
    public void A_link_out_of_the_dataset_folder_refuses_the_run_before_anything_is_copied()
    {
        string dataset = Directory.CreateDirectory(Path.Combine(_root, "acme")).FullName;
        File.WriteAllText(Path.Combine(dataset, "faq.csv"), "question,answer\nHow do I reset it?,Hold the button.\n");
        string outside = Path.Combine(_root, "secret.csv");
        File.WriteAllText(outside, "question,answer\nroot password?,hunter2\n");
        File.CreateSymbolicLink(Path.Combine(dataset, "linked.csv"), outside);
        string store = Path.Combine(_root, "store");

        var result = Stune.Run("run", dataset, "--store", store);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"error: {Path.Combine(dataset, "linked.csv")}: a symbolic link to {outside}, outside the input folder {dataset}: not followed", result.Stderr);
        Assert.False(Directory.Exists(Path.Combine(store, "datasets")));
    }
}
