using Azure.Storage.Blobs;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using ServerlessTune.Azure.Storage;
using ServerlessTune.Core.Storage;
using ServerlessTune.Functions;
using ServerlessTune.Workflow.Api;
using ServerlessTune.Workflow.Jobs;
using ServerlessTune.Workflow.Runner;
using ServerlessTune.Workflow.Tests.Orchestration;
using ServerlessTune.Workflow.Tests.Storage;

namespace ServerlessTune.Workflow.Tests.Functions;

/// <summary>
/// The blob trigger's function class over Azurite and the real Durable Task engine: the markers of one upload start
/// one run, and an upload while a run of the project is going starts none, with the reason in the log.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DatasetTriggerTests(AzuriteFixture azurite) : IAsyncLifetime
{
    readonly PipelineHarness _harness = new();
    BlobArtifactStore _store = null!;
    string _container = "";
    LocalProcessJobLauncher _launcher = null!;
    EmbeddedDurableHost _engine = null!;
    readonly FakeLogger<DatasetTrigger> _log = new();

    public async Task InitializeAsync()
    {
        (_store, _container) = await azurite.NewContainerAsync();
        await PipelineHarness.AddDatasetAsync(_store);
        await _store.WriteAllTextAsync("datasets/acme/pipeline.json",
            """{ "base_model": "models/base", "prepare": { "validation_fraction": 0.3 } }""");
        _launcher = new LocalProcessJobLauncher(ScriptTrainer.WithRealEvaluation(_harness.Scratch, ScriptTrainer.RunsForever), _harness.Scratch);
        _engine = await EmbeddedDurableHost.StartAsync(DurableBackend.InMemory(), registry => PipelineTasks.Register(registry),
            services => services.AddPipelineServices(_store, _launcher));
    }

    public async Task DisposeAsync()
    {
        await _engine.DisposeAsync();
        _launcher.Dispose();
        _harness.Dispose();
    }

    Task UploadedAsync(string name) => new DatasetTrigger(_store, _log).Run(
        new BlobContainerClient(azurite.ConnectionString, _container).GetBlobClient($"datasets/acme/{name}"), "acme", name, _engine.Client, CancellationToken.None);

    Task<IReadOnlyList<RunView>> RunsAsync() => new RunQueries(_engine.Client).ListAsync("acme");

    async Task EndAsync(string runId)
    {
        await _engine.Client.TerminateInstanceAsync(runId, "test over");
        await Bounded.CompletionAsync(_engine.Client, runId);
        await new RunJobs(_store, JobLaunchers.For(_launcher, null)).StopAllAsync(runId);
    }

    /// <summary>A new upload of the config (blob times have one-second steps: a later write has a later time).</summary>
    async Task UploadConfigAgainAsync()
    {
        await Task.Delay(TimeSpan.FromSeconds(1.1));
        await _store.WriteAllTextAsync("datasets/acme/pipeline.json",
            """{ "base_model": "models/base", "prepare": { "validation_fraction": 0.3 } }""");
    }

    [Fact]
    public async Task The_markers_of_one_upload_start_one_run_and_an_upload_while_it_goes_starts_none()
    {
        await _store.WriteAllTextAsync("datasets/acme/_ready", "");
        // Event Grid delivers both markers' events at once.
        await Task.WhenAll(UploadedAsync("pipeline.json"), UploadedAsync("_ready"));

        string runId = Assert.Single(await RunsAsync()).RunId;
        var messages = _log.Collector.GetSnapshot().Select(r => r.Message).ToList();
        Assert.Single(messages, m => m.EndsWith($": run {runId}"));
        Assert.Single(messages, m => m.EndsWith($": no run started: this upload already started run {runId}"));

        // A new upload while the run goes is refused with the run that holds the project.
        await UploadConfigAgainAsync();
        await UploadedAsync("pipeline.json");
        Assert.Single(await RunsAsync());
        Assert.Equal($"datasets/acme/pipeline.json: no run started: project acme: run {runId} is in progress", _log.LatestRecord.Message.Split(" (since ")[0]);

        // Once the run has ended, that refused upload's other marker starts it: it had started nothing.
        await EndAsync(runId);
        await UploadedAsync("_ready");
        var runs = await RunsAsync();
        Assert.Equal(2, runs.Count);
        string second = Assert.Single(runs, r => r.RunId != runId).RunId;
        Assert.Equal($"datasets/acme/_ready: run {second}", _log.LatestRecord.Message);
    }

    [Fact]
    public async Task The_other_marker_of_an_upload_starts_nothing_after_the_upload_s_run_ended_even_after_a_restart()
    {
        await _store.WriteAllTextAsync("datasets/acme/_ready", "");
        await UploadedAsync("pipeline.json");
        string runId = Assert.Single(await RunsAsync()).RunId;

        // The run ends (here: stopped; a run that fails fast is the same) before the _ready event is delivered.
        await EndAsync(runId);
        await UploadedAsync("_ready");
        Assert.Single(await RunsAsync());
        Assert.Equal($"datasets/acme/_ready: no run started: this upload already started run {runId}", _log.LatestRecord.Message);

        // A host restart (a new engine that knows no run) still finds the upload's run in the store.
        await _engine.DisposeAsync();
        _engine = await EmbeddedDurableHost.StartAsync(DurableBackend.InMemory(), registry => PipelineTasks.Register(registry),
            services => services.AddPipelineServices(_store, _launcher));
        await UploadedAsync("_ready");
        Assert.Empty(await RunsAsync());
        Assert.Equal($"datasets/acme/_ready: no run started: this upload already started run {runId}", _log.LatestRecord.Message);
    }
}
