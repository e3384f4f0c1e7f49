using System.Reflection;
using System.Text.Json.Nodes;

namespace ServerlessTune.Workflow.Tests.Functions;

/// <summary>The Functions host cannot run here; what it would load is the functions.metadata the build writes.</summary>
public sealed class FunctionsMetadataTests
{
    static readonly string Output = typeof(FunctionsMetadataTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "FunctionsOutput").Value!;

    static Dictionary<string, JsonArray> Functions() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Output, "functions.metadata")))!.AsArray()
            .ToDictionary(f => f!["name"]!.GetValue<string>(), f => f!["bindings"]!.AsArray());

    static JsonNode Trigger(JsonArray bindings) => Assert.Single(bindings, b => b!["type"]!.GetValue<string>().EndsWith("Trigger"))!;

    [Fact]
    public void The_blob_trigger_watches_datasets_through_Event_Grid()
    {
        var trigger = Trigger(Functions()["DatasetTrigger"]);
        Assert.Equal("blobTrigger", trigger["type"]!.GetValue<string>());
        Assert.Equal("%STUNE_CONTAINER%/datasets/{project}/{name}", trigger["path"]!.GetValue<string>());
        Assert.Equal("EventGrid", trigger["source"]!.GetValue<string>());
        Assert.Equal("STUNE_STORAGE", trigger["connection"]!.GetValue<string>());
    }

    [Fact]
    public void The_retrain_timer_runs_on_the_schedule_setting()
    {
        var trigger = Trigger(Functions()["RetrainTimer"]);
        Assert.Equal("timerTrigger", trigger["type"]!.GetValue<string>());
        Assert.Equal("%STUNE_RETRAIN_SCHEDULE%", trigger["schedule"]!.GetValue<string>());
    }

    [Fact]
    public void The_orchestration_and_every_pipeline_activity_have_triggers()
    {
        var functions = Functions();
        Assert.Equal("orchestrationTrigger", Trigger(functions[PipelineNames.Orchestrator])["type"]!.GetValue<string>());
        foreach (var activity in PipelineTasks.Activities.Keys)
            Assert.Equal("activityTrigger", Trigger(functions[activity])["type"]!.GetValue<string>());
    }

    // The runs API needs a function key. OpenAI clients cannot send one: the serving routes are anonymous to the host,
    // and the serving key check (ServingForwarder, tested with the serving tests) refuses them without the key.
    [Theory]
    [InlineData("StartRun", "post", "runs", "Function")]
    [InlineData("GetRun", "get", "runs/{runId}", "Function")]
    [InlineData("ListRuns", "get", "runs", "Function")]
    [InlineData("TerminateRun", "post", "runs/{runId}/terminate", "Function")]
    [InlineData("ApproveRun", "post", "runs/{runId}/approve", "Function")]
    [InlineData("ChatCompletions", "post", "v1/chat/completions", "Anonymous")]
    [InlineData("Completions", "post", "v1/completions", "Anonymous")]
    [InlineData("Models", "get", "v1/models", "Anonymous")]
    [InlineData("Feedback", "post", "v1/feedback", "Anonymous")]
    public void Http_functions_have_their_route_and_authorization_level(string name, string method, string route, string authLevel)
    {
        var trigger = Trigger(Functions()[name]);
        Assert.Equal("httpTrigger", trigger["type"]!.GetValue<string>());
        Assert.Equal(authLevel, trigger["authLevel"]!.GetValue<string>());
        Assert.Equal(route, trigger["route"]!.GetValue<string>());
        Assert.Equal([method], trigger["methods"]!.AsArray().Select(m => m!.GetValue<string>()));
    }

    [Fact]
    public void The_Functions_output_carries_no_libtorch()
    {
        var native = Directory.EnumerateFiles(Output, "*", SearchOption.AllDirectories)
            .Select(Path.GetFileName).Where(name => name!.StartsWith("lib", StringComparison.OrdinalIgnoreCase) &&
                (name.Contains("torch", StringComparison.OrdinalIgnoreCase) || name.StartsWith("libc10", StringComparison.OrdinalIgnoreCase)))
            .ToArray();
        Assert.Empty(native);
        Assert.True(File.Exists(Path.Combine(Output, "TorchSharp.dll")), "the managed TorchSharp assembly is expected (Core's types); only natives are left out");
    }

    [Fact]
    public void Host_settings_from_the_repository_root_are_in_the_build_output()
    {
        string root = Storage.AzuriteFixture.RepositoryRoot();
        Assert.Equal(File.ReadAllText(Path.Combine(root, "host.json")), File.ReadAllText(Path.Combine(Output, "host.json")));
        Assert.True(File.Exists(Path.Combine(Output, "local.settings.sample.json")));
    }
}
