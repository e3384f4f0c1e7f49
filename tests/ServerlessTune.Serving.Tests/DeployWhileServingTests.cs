using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ServerlessTune.Core.Feedback;
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
/// Publishing without a restart and the feedback loop: a pipeline run (the real trainer as a child process, as `stune run`
/// does) deploys a version, the server serves it from the registry, users rate answers through the OpenAI client's
/// conversation, and once enough are rated `stune retrain` starts a second run that trains on them, evaluates the rejected
/// and corrected answers, and deploys another version while a client keeps streaming; `stune monitor` shows both versions.
/// </summary>
public sealed class DeployWhileServingTests : IDisposable
{
    const string Project = "acme";
    const string Config = """
        {
          "base_model": "models/base",
          "prepare": { "validation_fraction": 0.2 },
          "train": { "method": "full", "max_steps": 8, "learning_rate": 0.003, "batch_size": 8, "grad_accum": 1,
                     "warmup_steps": 2, "eval_every": 8, "checkpoint_every": 8, "seed": 3 },
          "eval": { "max_cases": 2, "max_new_tokens": 4 },
          "gate": { "mode": "enforce", "rules": [ { "metric": "feedback_fixed", "op": ">=", "value": 0 } ] },
          "deploy": { "alias": "production" },
          "feedback": { "retrain_after": 3 }
        }
        """;

    readonly TempDir root = new();

    public void Dispose() => root.Dispose();

    [Fact]
    public async Task Rated_answers_feed_the_second_run_which_deploys_while_a_client_streams_and_monitoring_shows_both_versions()
    {
        var store = new LocalFolderStore(root.File("store"));
        await AddDatasetAsync(store);
        using var launcher = new LocalProcessJobLauncher(
            new LocalTrainerCommand("dotnet", [Path.Combine(AppContext.BaseDirectory, "stune-trainer.dll"), "{spec}", "--store", "{store}"]), store.Location);
        var first = await new PipelineRunner(store, launcher).RunAsync(Input(), runId: "run-1");
        Assert.True(first.Status == PipelineOutcome.Completed, $"{first.Status}: {first.Error}");
        var v1 = (await new ModelRegistry(store).GetAsync(Project, first.Version!))!;
        Assert.Equal("chatml", v1.ChatTemplate); // the registry records the template the run prepared and trained with
        // Nothing was rated yet: the gate's feedback rule has nothing to hold, and no retraining is due.
        Assert.Equal("skipped", (string?)JsonNode.Parse(await store.ReadAllTextAsync(ArtifactLayout.Report("run-1").Json))!["gate"]!["rules"]![0]!["status"]);
        var idle = StuneProcess.Run("retrain", "--store", store.Location);
        Assert.True(idle.ExitCode == 0, idle.Stderr);
        Assert.StartsWith("acme: not due: 0 conversation(s) rated since run run-1 read the log", idle.Stdout);
        Assert.EndsWith("nothing to retrain\n", idle.Stdout);

        await using var server = await TestServer.StartAsync(TestServer.Options() with { Project = Project }, store);
        var models = await server.Http.GetFromJsonAsync<JsonObject>("/v1/models");
        Assert.Equal([Project, $"{Project}@{first.Version}"], models!["data"]!.AsArray().Select(m => (string)m!["id"]!).Order());

        var ratings = await RateAnswersAsync(server);

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

        // Three conversations rated: retrain_after is reached, and `stune retrain` runs the pipeline on the stored dataset.
        var retrain = StuneProcess.Run("retrain", "--store", store.Location, "--project", Project, "--json");
        Assert.True(retrain.ExitCode == 0, retrain.Stderr);
        var outcome = JsonNode.Parse(retrain.Stdout)!.AsArray().Single()!;
        Assert.Equal((true, 3), ((bool)outcome["due"]!, (int)outcome["newRatings"]!));
        var second = outcome["run"]!.Deserialize<RunSummary>(JsonSerializerOptions.Web)!;
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
        await CheckFeedbackWasUsedAsync(store, second.RunId, ratings);
        await CheckFeedbackWasEvaluatedAsync(store, second.RunId, ratings);
        await server.App.Conversations!.FlushAsync();
        var monitor = StuneProcess.Run("monitor", "--store", store.Location, "--project", Project, "--json");
        Assert.True(monitor.ExitCode == 0, monitor.Stderr);
        var usage = JsonNode.Parse(monitor.Stdout)!["days"]!.AsArray();
        Assert.Equal([first.Version!, second.Version!], usage.Select(d => (string)d!["version"]!).Distinct().Order());
        var rated = Assert.Single(usage, d => (string)d!["version"]! == first.Version && (int)d["rated"]! > 0)!;
        Assert.Equal((3, 1, 1), ((int)rated["rated"]!, (int)rated["thumbs_up"]!, (int)rated["corrections"]!));
        // Every request finished on one version; once the new one served, the old one never did again.
        var switchAt = fingerprints.IndexOf(second.Version!);
        Assert.All(fingerprints.Skip(switchAt < 0 ? fingerprints.Count : switchAt), f => Assert.Equal(second.Version, f));
        // The old version is unloaded once nothing runs on it.
        Assert.DoesNotContain(server.App.Catalog.Names, n => n.Model.Version == first.Version);
        await CheckAnOlderVersionLoadsOnDemandAsync(server, $"{Project}@{first.Version}");

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

    sealed record Ratings(string Up, string Corrected, string Down, string Correction);

    /// <summary>
    /// A version no alias names is still listed and servable by {project}@{version}: its first request starts the load
    /// and gets 503 with Retry-After (as while any model loads), a retry is served by it; an unregistered one is 404.
    /// </summary>
    static async Task CheckAnOlderVersionLoadsOnDemandAsync(TestServer server, string name)
    {
        var models = await server.Http.GetFromJsonAsync<JsonObject>("/v1/models");
        Assert.Contains(name, models!["data"]!.AsArray().Select(m => (string)m!["id"]!));
        object Ask(string model) => new { model, messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 2 };
        using (var loading = await server.Http.PostAsJsonAsync("/v1/chat/completions", Ask(name)))
        {
            Assert.Equal(503, (int)loading.StatusCode);
            Assert.Equal("model_loading", (string?)JsonNode.Parse(await loading.Content.ReadAsStringAsync())!["error"]!["code"]);
            Assert.NotNull(loading.Headers.RetryAfter);
        }
        var (status, body) = (503, (JsonNode?)null);
        for (int i = 0; i < 300 && status == 503; i++)
        {
            (status, body) = await server.PostAsync("/v1/chat/completions", Ask(name));
            if (status == 503) await Task.Delay(100);
        }
        Assert.Equal(200, status);
        Assert.Equal(name[(name.IndexOf('@') + 1)..], (string?)body!["system_fingerprint"]);
        Assert.Contains(server.App.Catalog.Names, n => n.Name == name);
        var (missing, _) = await server.PostAsync("/v1/chat/completions", Ask(name[..name.IndexOf('@')] + "@29990101-000000-missing0"));
        Assert.Equal(404, missing);
    }

    /// <summary>What `stune retrain --json` says of a run it ran.</summary>
    sealed record RunSummary(string RunId, string Status, string? Version, string? Alias, string? Error);

    /// <summary>
    /// The second run's report shows the rejected and corrected answers with each model's new answer and verdict, and
    /// feedback_fixed, which its gate held; the dashboard was written after Deploy and shows the version that was rated.
    /// </summary>
    static async Task CheckFeedbackWasEvaluatedAsync(IArtifactStore store, string runId, Ratings ratings)
    {
        var paths = ArtifactLayout.Report(runId);
        var report = JsonNode.Parse(await store.ReadAllTextAsync(paths.Json))!;
        var feedback = report["feedback"]!;
        Assert.Equal((1, 1), ((int)feedback["rejected"]!, (int)feedback["corrected"]!));
        var corrected = feedback["cases"]!.AsArray().Single(c => (string)c!["id"]! == ratings.Corrected)!;
        Assert.Equal(ratings.Correction, (string?)corrected["correction"]);
        Assert.Equal(["base", "candidate", "production"], corrected["answers"]!.AsArray().Select(a => (string)a!["model"]!).Order());
        var down = feedback["cases"]!.AsArray().Single(c => (string)c!["id"]! == ratings.Down)!;
        Assert.All(down["answers"]!.AsArray(), a => Assert.NotNull(a!["fixed"]));
        var candidate = report["models"]!.AsArray().Single(m => (string)m!["name"]! == "candidate")!;
        Assert.Equal(1, (int)candidate["metrics"]!["feedback_fixed"]!["n"]!);
        Assert.Equal("passed", (string?)report["gate"]!["rules"]![0]!["status"]);
        var html = await store.ReadAllTextAsync(paths.Html);
        Assert.Contains("<table id=\"feedback-corrected\">", html);
        Assert.Contains("<table id=\"feedback-fixed\">", html);
        Assert.Contains("Can I get a refund?", html);
        Assert.Contains("| feedback_fixed |", await store.ReadAllTextAsync(paths.Markdown));
        var dashboard = await store.ReadAllTextAsync(paths.Dashboard);
        Assert.Contains((string)corrected["version"]!, dashboard);
    }

    /// <summary>Three answers through the OpenAI client: one rated up, one corrected, one rated up and then down.</summary>
    static async Task<Ratings> RateAnswersAsync(TestServer server)
    {
        var chat = server.OpenAI().GetChatClient(Project);
        var options = new OpenAI.Chat.ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 8 };
        async Task<string> AskAsync(string question) => (await chat.CompleteChatAsync([new OpenAI.Chat.UserChatMessage(question)], options)).Value.Id;
        var ratings = new Ratings(await AskAsync("How do I reset router model R2?"), await AskAsync("Why is my light red?"),
            await AskAsync("Can I get a refund?"), "A red light means no signal: check that the fiber cable is plugged in.");
        await server.OkAsync("/v1/feedback", new { completion_id = ratings.Up, rating = 1 });
        await server.OkAsync("/v1/feedback", new { completion_id = ratings.Corrected, rating = -1, correction = ratings.Correction });
        await server.OkAsync("/v1/feedback", new { completion_id = ratings.Down, rating = 1 });
        await server.OkAsync("/v1/feedback", new { completion_id = ratings.Down, rating = -1, comment = "wrong answer" });
        // What a server holds is written within a second; flush so the next run sees it without waiting.
        await server.App.Conversations!.FlushAsync();
        return ratings;
    }

    /// <summary>The second run's stats.json accounts for every rating; the correction replaced its answer; the down-rated one is a case.</summary>
    static async Task CheckFeedbackWasUsedAsync(IArtifactStore store, string runId, Ratings ratings)
    {
        var prepared = ArtifactLayout.Prepared(runId);
        var stats = JsonNode.Parse(await store.ReadAllTextAsync($"{prepared.Folder}/{PreparedPaths.StatsFile}"))!;
        var feedback = stats["feedback"]!;
        Assert.Equal((4, 1, 1, 1), ((int)feedback["records"]!, (int)feedback["ratedUp"]!, (int)feedback["corrected"]!, (int)feedback["evaluationCases"]!));
        Assert.Equal(1, (int)feedback["excluded"]![FeedbackSource.Superseded]!);
        var file = stats["files"]!.AsArray().Single(f => (string)f!["path"]! == prepared.FeedbackChats)!;
        Assert.Equal(2, (int)file["counts"]!["input"]!);

        var chats = (await store.ReadAllTextAsync(prepared.FeedbackChats)).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(2, chats.Count);
        Assert.Contains(chats, c => (string)c["messages"]![1]!["content"]! == ratings.Correction);
        Assert.Contains(chats, c => (string)c["messages"]![0]!["content"]! == "How do I reset router model R2?");
        // The evaluation cases: the rated-down answer, and the corrected one (scored against its correction).
        var cases = (await store.ReadAllTextAsync(prepared.FeedbackCases)).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal([ratings.Corrected, ratings.Down], cases.Select(c => (string)c["id"]!));
        Assert.Equal(ratings.Correction, (string?)cases[0]["correction"]);
        var down = cases[1];
        Assert.Equal((ratings.Down, "Can I get a refund?", null), ((string)down["id"]!, (string)down["messages"]![0]!["content"]!, (string?)down["correction"]));
        // A rated-down answer is never trained on.
        var trained = await store.ReadAllTextAsync(prepared.Train) + await store.ReadAllTextAsync(prepared.Validation);
        Assert.DoesNotContain("Can I get a refund?", trained);
    }

    static PipelineInput Input()
    {
        string source = ArtifactLayout.Dataset(Project).Config;
        return new(Project, PipelineOptionsParser.Parse(Config, source), source,
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
        // Stored as `stune run` stores the folder it is given: what `stune retrain` runs on.
        await store.WriteAllTextAsync(ArtifactLayout.Dataset(Project).Config, Config);
        var folder = Directory.CreateTempSubdirectory("stune-base-").FullName;
        try
        {
            ModelInitializer.Run("llama", "tiny", folder, seed: 0);
            await store.UploadFolderAsync(folder, "models/base");
        }
        finally { Directory.Delete(folder, recursive: true); }
    }
}
