using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Jobs;
using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Training;
using ServerlessTune.Workflow.Jobs;
using ServerlessTune.Workflow.Steps;

namespace ServerlessTune.Workflow.Tests.Orchestration;

/// <summary>Activities may run again (retry, replay after a worker crash): they must not duplicate jobs, artifacts or versions.</summary>
public sealed class IdempotencyTests : IDisposable
{
    readonly PipelineHarness _harness = new();
    readonly LocalFolderStore _store;

    public IdempotencyTests() => _store = new LocalFolderStore(Path.Combine(_harness.Scratch, "store"));

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task Starting_training_twice_for_a_run_returns_the_first_job()
    {
        using var launcher = new LocalProcessJobLauncher(ScriptTrainer.Write(_harness.Scratch, ScriptTrainer.RunsForever), _store.Location);
        var jobs = new RunJobs(_store, launcher);
        var input = new TrainInput("acme", "run-1", "models/base", "prepared/run-1", new TrainingOptions { Epochs = 2 }, null);

        var first = await new TrainStep(jobs).StartAsync(input);
        var second = await new TrainStep(jobs).StartAsync(input);
        // A second worker (its own launcher) after a crash also finds the recorded job instead of starting one.
        using var otherLauncher = new LocalProcessJobLauncher(ScriptTrainer.Write(_harness.Scratch, ScriptTrainer.Crashes), _store.Location);
        var third = await new TrainStep(new RunJobs(_store, otherLauncher)).StartAsync(input);

        Assert.Equal(first, second);
        Assert.Equal(first, third);
        Assert.Equal(JobKinds.Train, first.Kind);
        Assert.Equal(JobState.Running, (await jobs.GetStatusAsync(first)).State);
        Assert.Contains("\"epochs\": 2", await _store.ReadAllTextAsync("runs/run-1/jobs/train/spec.json"));
        await jobs.StopAsync(first);
    }

    [Fact]
    public async Task Deploying_twice_registers_one_version_and_sets_the_alias_once()
    {
        var step = new DeployStep(_store, new ModelRegistry(_store));
        var input = new DeployInput("acme", "run-1", new DateTimeOffset(2026, 11, 24, 10, 0, 0, TimeSpan.Zero), "models/base",
            "sha256:1", new Dictionary<string, double> { ["perplexity"] = 2 }, new GateResult(GateMode.Enforce, true, []), "production", "chatml");
        // Deploy registers only a model that loads: the adapter a training job writes (config and a weights header).
        await ScriptTrainer.WriteAdapterAsync(_store, "run-1");

        var first = await step.RunAsync(input);
        var second = await step.RunAsync(input);

        Assert.Equal(first, second);
        Assert.Equal("20261124-100000-", first.Version[..16]);
        var registered = Assert.Single(await new ModelRegistry(_store).ListAsync("acme"));
        Assert.Equal("chatml", registered.ChatTemplate);
    }
}
