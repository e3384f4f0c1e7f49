using System.Text.Json;
using ServerlessTune.Workflow.Tests.Hosted;

namespace ServerlessTune.Cli.Tests;

/// <summary>
/// `stune run` of a folder whose pipeline.json names a hosted base, the CLI pointed at the loopback OpenAI server the
/// way a user points it at api.openai.com or a compatible endpoint: OPENAI_BASE_URL and OPENAI_API_KEY.
/// </summary>
public sealed class HostedRunCommandTests : IAsyncLifetime
{
    readonly string _root = Directory.CreateTempSubdirectory("stune-hosted-run-").FullName;
    LoopbackOpenAI _server = null!;

    public async Task InitializeAsync() => _server = await LoopbackOpenAI.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    string Folder(string pipelineJson)
    {
        string folder = Directory.CreateDirectory(Path.Combine(_root, "harbor")).FullName;
        File.WriteAllLines(Path.Combine(folder, "chats.jsonl"), Enumerable.Range(1, 30).Select(i => JsonSerializer.Serialize(new
        {
            messages = new object[]
            {
                new { role = "user", content = $"How do I reset router model HX{i}?" },
                new { role = "assistant", content = $"Hold the reset button of the HX{i} for {i + 5} seconds until the light blinks green." },
            },
        })));
        File.WriteAllText(Path.Combine(folder, "pipeline.json"), pipelineJson);
        return folder;
    }

    StuneResult Run(string folder, string key = LoopbackOpenAI.OpenAIKey) => Stune.Run(
        ["run", folder, "--store", Path.Combine(_root, "store"), "--poll-seconds", "0.1", "--json"], workingDirectory: _root,
        environment: new Dictionary<string, string>
        {
            ["OPENAI_BASE_URL"] = new Uri(_server.PlainRoot, "v1").ToString(),
            ["OPENAI_API_KEY"] = key,
        });

    [Fact]
    public void An_openai_base_is_fine_tuned_evaluated_through_chat_completions_gated_and_registered()
    {
        string folder = Folder("""{"base_model": "openai:gpt-4o-mini", "prepare": {"validation_fraction": 0.2}, "train": {"epochs": 2, "batch_size": 4, "seed": 3}}""");

        var result = Run(folder);

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var summary = JsonDocument.Parse(result.Stdout);
        Assert.Equal("Completed", summary.RootElement.GetProperty("status").GetString());
        Assert.True(summary.RootElement.GetProperty("gate").GetProperty("passed").GetBoolean());
        Assert.Equal("production", summary.RootElement.GetProperty("alias").GetString());

        var job = Assert.Single(_server.Jobs);
        Assert.Equal("gpt-4o-mini", job.Model);
        Assert.Equal("harbor", job.Request["suffix"]!.GetValue<string>());
        Assert.Equal(3, job.Request["seed"]!.GetValue<int>());
        var hyper = job.Request["method"]!["supervised"]!["hyperparameters"]!;
        Assert.Equal(2, hyper["n_epochs"]!.GetValue<int>());
        Assert.Equal(4, hyper["batch_size"]!.GetValue<int>());
        Assert.Equal("auto", hyper["learning_rate_multiplier"]!.GetValue<string>());
        // The base and the fine-tuned model answered the suite through /v1/chat/completions; no ARM call on OpenAI.
        Assert.Contains(_server.Requests, r => r is { Method: "POST", Path: "/v1/chat/completions", Status: 200 });
        Assert.DoesNotContain(_server.Requests, r => r.Path.StartsWith("/subscriptions/", StringComparison.Ordinal));

        string version = summary.RootElement.GetProperty("version").GetString()!;
        using var model = JsonDocument.Parse(File.ReadAllText(Path.Combine(_root, "store", "registry", "harbor", "versions", version, "model.json")));
        var hosted = model.RootElement.GetProperty("hosted");
        Assert.Equal("openai", hosted.GetProperty("provider").GetString());
        Assert.Equal(job.FineTunedModel, hosted.GetProperty("model").GetString());
        Assert.Contains("\"kind\":\"train\"", File.ReadAllText(Path.Combine(_root, "store", "runs", summary.RootElement.GetProperty("runId").GetString()!, "metrics.jsonl")));
    }

    [Fact]
    public void A_wrong_key_fails_the_run_with_the_services_words_and_no_job()
    {
        string folder = Folder("""{"base_model": "openai:gpt-4o-mini", "prepare": {"validation_fraction": 0.2}}""");

        var result = Run(folder, key: "sk-wrong");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("the service answered 401: Incorrect API key provided.", result.Stdout + result.Stderr);
        Assert.Empty(_server.Jobs);
    }
}
