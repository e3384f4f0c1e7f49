using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;
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
        _launcher = new LocalProcessJobLauncher(ScriptTrainer.Write(_harness.Scratch, ScriptTrainer.Succeeds), _store.Location);
        _host = await DurableTaskTestHost.StartAsync(
            registry => PipelineTasks.Register(registry),
            new DurableTaskTestHostOptions { ConfigureServices = services => services.AddPipelineServices(_store, _launcher) });
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
        string? first = await Starter().StartForBlobAsync("acme", "_ready");
        string? again = await Starter().StartForBlobAsync("acme", "_ready");

        Assert.NotNull(first);
        Assert.Equal(first, again);
        var done = await _host.Client.WaitForInstanceCompletionAsync(first, getInputsAndOutputs: true);
        Assert.Null(done.FailureDetails);
        Assert.Equal(PipelineOutcome.Completed, done.ReadOutputAs<PipelineResult>()!.Outcome);
        var runs = await new RunQueries(_host.Client).ListAsync("acme");
        Assert.Equal(first, Assert.Single(runs).RunId);
        Assert.Equal("acme", runs[0].Project);
    }

    [Fact]
    public async Task A_run_without_a_base_model_fails_naming_the_key()
    {
        await PipelineHarness.AddDatasetAsync(_store);
        string runId = await Starter().StartAsync("acme", new PipelineOptions());
        await _host.Client.WaitForInstanceCompletionAsync(runId);

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
        await _host.Client.WaitForInstanceCompletionAsync(runId);

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
