using Microsoft.DurableTask.Testing;
using ServerlessTune.Core;
using ServerlessTune.Core.PipelineConfig;
using ServerlessTune.Core.Storage;
using ServerlessTune.Workflow.Api;
using ServerlessTune.Workflow.Jobs;
using ServerlessTune.Workflow.Tests.Orchestration;

namespace ServerlessTune.Workflow.Tests.Api;

/// <summary>What the blob trigger and the HTTP API do, against a real durable client (in-process host).</summary>
public sealed class RunStarterTests : IAsyncLifetime
{
    readonly PipelineHarness _harness = new();
    LocalFolderStore _store = null!;
    LocalProcessJobLauncher _launcher = null!;
    DurableTaskTestHost _host = null!;

    public async Task InitializeAsync()
    {
        _store = new LocalFolderStore(Path.Combine(_harness.Scratch, "store"));
        // The real evaluation job, of a candidate that is a copy of the base: nothing here is about what it measures.
        _launcher = new LocalProcessJobLauncher(ScriptTrainer.WithRealEvaluation(_harness.Scratch, ScriptTrainer.CopiesTheBase), _store.Location);
        _host = await PipelineTestHost.StartAsync(_store, _launcher);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _launcher.Dispose();
        _harness.Dispose();
    }

    RunStarter Starter() => new(_host.Client, _store, PipelineHarness.FastTiming);

    /// <summary>A validation split large enough for the evaluation to derive its suite from (see PipelineHarness.Input).</summary>
    const string SplitForTheSuite = "\"prepare\": { \"validation_fraction\": 0.3 }";

    [Fact]
    public async Task Data_files_start_nothing_and_the_ready_marker_starts_one_run_even_when_redelivered()
    {
        await PipelineHarness.AddDatasetAsync(_store);
        await _store.WriteAllTextAsync("datasets/acme/pipeline.json", $$"""{ "base_model": "models/base", {{SplitForTheSuite}} }""");
        await _store.WriteAllTextAsync("datasets/acme/_ready", "");

        Assert.Null(await Starter().StartForBlobAsync("acme", "chats.jsonl"));
        Assert.Null(await Starter().StartForBlobAsync("acme", "notes/pipeline.json"));
        var start = await Starter().StartForBlobAsync("acme", "_ready");
        var again = await Starter().StartForBlobAsync("acme", "_ready");

        Assert.True(start!.Started);
        Assert.Equal(start with { Started = false }, again);
        string first = start.RunId;
        var done = await Bounded.CompletionAsync(_host.Client, first, getInputsAndOutputs: true);
        Assert.Null(done.FailureDetails);
        Assert.Equal(PipelineOutcome.Completed, done.ReadOutputAs<PipelineResult>()!.Outcome);
        var runs = await new RunQueries(_host.Client).ListAsync("acme");
        Assert.Equal(first, Assert.Single(runs).RunId);
        Assert.Equal("acme", runs[0].Project);
    }

    [Fact]
    public async Task Retrain_starts_a_run_once_enough_conversations_were_rated_since_the_last_run_read_the_log()
    {
        await PipelineHarness.AddDatasetAsync(_store);
        await _store.WriteAllTextAsync("datasets/acme/pipeline.json",
            $$"""{ "base_model": "models/base", "feedback": { "retrain_after": 2 }, {{SplitForTheSuite}} }""");
        await _store.WriteAllTextAsync("datasets/other/pipeline.json", """{ "feedback": { "include": false } }""");
        await _store.WriteAllTextAsync("datasets/broken/pipeline.json", """{ "feedback": { "retrain_after": 0 } }""");
        var queries = new RunQueries(_host.Client);
        var service = new RetrainService(_store, queries.GoingRunAsync);
        var started = new List<string>();
        async Task<string> StartAsync(RetrainCheck check, CancellationToken ct)
        {
            string runId = await Starter().StartAsync(check.Project, check.Options, ct: ct);
            started.Add(runId);
            return runId;
        }

        await RateAsync("c1", 1);
        var checks = await service.StartDueAsync(StartAsync);
        Assert.Equal(["acme", "broken", "other"], checks.Select(c => c.Check.Project));
        Assert.Equal("1 conversation(s) rated in the log (no run has read it yet), retrain_after 2", checks[0].Check.Reason);
        Assert.StartsWith("datasets/broken/pipeline.json: feedback: retrain_after: expected a whole number", checks[1].Check.Reason);
        Assert.Equal("datasets/other/pipeline.json sets no feedback.retrain_after", checks[2].Check.Reason);
        Assert.Empty(started);

        await RateAsync("c1", -1); // the same conversation again: still one
        await RateAsync("c2", 1);
        var due = Assert.Single(await service.StartDueAsync(StartAsync, "acme"));
        Assert.True(due.Check.Due);
        Assert.Equal(due.Run, Assert.Single(started));
        // While that run goes, the project waits whatever the count.
        if (await queries.GoingRunAsync("acme") is not null)
            Assert.EndsWith($"is in progress", Assert.Single(await service.CheckAsync("acme")).Reason);
        var done = await Bounded.CompletionAsync(_host.Client, due.Run!, getInputsAndOutputs: true);
        Assert.Equal(PipelineOutcome.Completed, done.ReadOutputAs<PipelineResult>()!.Outcome);

        // The run read the log: its ratings are no longer new.
        var after = Assert.Single(await service.CheckAsync("acme"));
        Assert.False(after.Due);
        Assert.Equal(0, after.NewRatings);
        Assert.StartsWith($"0 conversation(s) rated since run {due.Run} read the log", after.Reason);
    }

    async Task RateAsync(string completion, int rating)
    {
        var at = DateTimeOffset.UtcNow;
        var record = new ServerlessTune.Core.Feedback.FeedbackRecord
        {
            CompletionId = completion, Project = "acme", Version = "v1", Rating = rating, Created = at,
        };
        await using var writer = new ServerlessTune.Core.Feedback.DailyLogWriter(_store, TimeSpan.FromHours(1));
        writer.Append(ArtifactLayout.Feedback("acme"), at, record);
    }

    [Fact]
    public async Task A_run_without_a_base_model_fails_naming_the_key()
    {
        await PipelineHarness.AddDatasetAsync(_store);
        string runId = await Starter().StartAsync("acme", new PipelineOptions());
        await Bounded.CompletionAsync(_host.Client, runId);

        var view = await new RunQueries(_host.Client).GetAsync(runId);
        Assert.Equal("Failed", view!.RuntimeStatus);
        Assert.Equal("request config: base_model: missing (name a store prefix, local folder, hub id or init:<arch>-<preset>)", view.Error);
        Assert.Null(view.Result);
    }

    [Fact]
    public async Task A_bad_pipeline_json_starts_no_run_and_names_the_file_and_key()
    {
        await PipelineHarness.AddDatasetAsync(_store);
        await _store.WriteAllTextAsync("datasets/acme/pipeline.json", """{ "gate": { "mode": "sometimes", "rules": [] } }""");

        var error = await Assert.ThrowsAsync<UserInputException>(() => Starter().StartForBlobAsync("acme", "pipeline.json"));

        Assert.StartsWith("datasets/acme/pipeline.json: gate: mode: 'sometimes'", error.Message);
        Assert.Empty(await new RunQueries(_host.Client).ListAsync(null));
    }

    [Fact]
    public async Task A_started_run_is_visible_with_its_progress_and_an_unknown_run_is_not()
    {
        await PipelineHarness.AddDatasetAsync(_store);
        string runId = await Starter().StartAsync("acme", PipelineOptionsParser.Parse($$"""{"base_model": "models/base", "deploy": {"alias": "staging"}, {{SplitForTheSuite}} }"""));
        await Bounded.CompletionAsync(_host.Client, runId);

        var view = await new RunQueries(_host.Client).GetAsync(runId);
        Assert.Null(view!.Error);
        Assert.Equal("Completed", view.RuntimeStatus);
        Assert.Equal("Completed", view.Progress!.Step);
        Assert.Equal("staging", view.Result!.Alias);
        Assert.False(await new RunQueries(_host.Client).IsAwaitingApprovalAsync(runId));
        Assert.Null(await new RunQueries(_host.Client).GetAsync("20990101-000000-00000000"));
        await Assert.ThrowsAsync<UserInputException>(() => Starter().StartAsync("../acme", null));
    }
}
