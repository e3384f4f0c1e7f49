using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.PipelineConfig;
using ServerlessTune.Workflow;
using ServerlessTune.Workflow.Jobs;
using ServerlessTune.Workflow.Runner;
using ServerlessTune.Core.Tests;

namespace ServerlessTune.Serving.Tests;

/// <summary>
/// Publishing without a restart: a pipeline run (the real trainer as a child process, as `stune run` does) deploys a
/// version, the server serves it from the registry, and a second run deploys another while a client keeps streaming.
/// </summary>
public sealed class DeployWhileServingTests : IDisposable
{
    const string Project = "acme";
    const string Config = """
        {
          "prepare": { "validation_fraction": 0.2 },
          "train": { "method": "full", "max_steps": 8, "learning_rate": 0.003, "batch_size": 8, "grad_accum": 1,
                     "warmup_steps": 2, "eval_every": 8, "checkpoint_every": 8, "seed": 3 },
          "eval": { "max_cases": 2, "max_new_tokens": 4 },
          "gate": { "mode": "enforce", "rules": [] },
          "deploy": { "alias": "production" }
        }
        """;

    readonly TempDir root = new();

    public void Dispose() => root.Dispose();

    [Fact]
    public async Task A_second_run_deploys_while_a_client_streams_no_request_fails_and_the_next_reports_the_new_version()
    {
        var store = new LocalFolderStore(root.File("store"));
        await AddDatasetAsync(store);
        using var launcher = new LocalProcessJobLauncher(
            new LocalTrainerCommand("dotnet", [Path.Combine(AppContext.BaseDirectory, "stune-trainer.dll"), "{spec}", "--store", "{store}"]), store.Location);
        var first = await new PipelineRunner(store, launcher).RunAsync(Input(), runId: "run-1");
        Assert.True(first.Status == PipelineOutcome.Completed, $"{first.Status}: {first.Error}");
        var v1 = (await new ModelRegistry(store).GetAsync(Project, first.Version!))!;
        Assert.Equal("chatml", v1.ChatTemplate); // the registry records the template the run prepared and trained with

        await using var server = await TestServer.StartAsync(TestServer.Options() with { Project = Project }, store);
        var models = await server.Http.GetFromJsonAsync<JsonObject>("/v1/models");
        Assert.Equal([Project, $"{Project}@{first.Version}"], models!["data"]!.AsArray().Select(m => (string)m!["id"]!).Order());

        // A client streams one request after another for the whole second run.
        using var stop = new CancellationTokenSource();
        var fingerprints = new List<string>();
        var client = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var (response, reader) = await server.OpenStreamAsync("/v1/chat/completions", new
                {
                    model = Project, messages = new[] { new { role = "user", content = "How do I reset router model R3?" } },
                    stream = true, max_tokens = 16, temperature = 0, stream_options = new { include_usage = true },
                });
                var events = await TestServer.ReadEventsAsync(reader);
                Assert.NotNull(events[^1]["usage"]);
                fingerprints.Add((string)events[0]["system_fingerprint"]!);
                reader.Dispose();
                response.Dispose();
            }
        });

        var second = await new PipelineRunner(store, launcher).RunAsync(Input(), runId: "run-2");
        Assert.True(second.Status == PipelineOutcome.Completed, $"{second.Status}: {second.Error}");
        for (int i = 0; i < 200 && !server.App.Catalog.Names.Any(n => n.Model.Version == second.Version); i++) await Task.Delay(50);
        var next = await server.OkAsync("/v1/chat/completions", new
        {
            model = Project, messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 2,
        });
        stop.Cancel();
        await client; // rethrows if any streamed request failed

        Assert.Equal(second.Version, (string?)next["system_fingerprint"]);
        Assert.Contains(first.Version, fingerprints);
        // Every request finished on one version; once the new one served, the old one never did again.
        var switchAt = fingerprints.IndexOf(second.Version!);
        Assert.All(fingerprints.Skip(switchAt < 0 ? fingerprints.Count : switchAt), f => Assert.Equal(second.Version, f));
        // The old version is unloaded once nothing runs on it.
        Assert.DoesNotContain(server.App.Catalog.Names, n => n.Model.Version == first.Version);

        // A version that cannot load leaves the current one serving, and /health says why.
        var broken = v1 with { Version = "29990101-000000-broken00", RunId = "run-broken", Adapter = ArtifactLayout.Run("run-broken").Merged };
        await store.WriteAllTextAsync($"{broken.Adapter}/config.json", "{ not json");
        var registry = new ModelRegistry(store);
        await registry.RegisterAsync(broken);
        await registry.SetAliasAsync(Project, ModelRegistry.Production, broken.Version);
        JsonObject? health = null;
        for (int i = 0; i < 200; i++)
        {
            health = await server.Http.GetFromJsonAsync<JsonObject>("/health");
            if (health!["problems"]!.AsArray().Count > 0) break;
            await Task.Delay(50);
        }
        Assert.Equal("ok", (string?)health!["status"]);
        Assert.Contains(broken.Version, (string?)health["problems"]![0]);
        var still = await server.OkAsync("/v1/chat/completions", new { model = Project, messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 2 });
        Assert.Equal(second.Version, (string?)still["system_fingerprint"]);
    }

    static PipelineInput Input()
    {
        string source = ArtifactLayout.Dataset(Project).Config;
        return new(Project, PipelineOptionsParser.Parse(Config, source) with { BaseModel = "models/base" }, source,
            new TimingOptions(PollSeconds: 0.1, RetryFirstSeconds: 0.1, RetryMaxAttempts: 3, ApprovalTimeoutHours: 1));
    }

    static async Task AddDatasetAsync(IArtifactStore store)
    {
        var lines = Enumerable.Range(1, 20).Select(i => JsonSerializer.Serialize(new
        {
            messages = new[]
            {
                new { role = "user", content = $"How do I reset router model R{i}?" },
                new { role = "assistant", content = $"Hold the reset button of the R{i} for {i + 5} seconds until the light blinks." },
            },
        }));
        await store.WriteAllTextAsync(ArtifactLayout.Dataset(Project).File("chats.jsonl"), string.Join("\n", lines) + "\n");
        var folder = Directory.CreateTempSubdirectory("stune-base-").FullName;
        try
        {
            ModelInitializer.Run("llama", "tiny", folder, seed: 0);
            await store.UploadFolderAsync(folder, "models/base");
        }
        finally { Directory.Delete(folder, recursive: true); }
    }
}
