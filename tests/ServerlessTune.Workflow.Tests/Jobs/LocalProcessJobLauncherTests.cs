using ServerlessTune.Core.Jobs;
using ServerlessTune.Workflow.Jobs;
using ServerlessTune.Workflow.Tests.Orchestration;

namespace ServerlessTune.Workflow.Tests.Jobs;

public sealed class LocalProcessJobLauncherTests : IDisposable
{
    readonly PipelineHarness _harness = new();
    static readonly JobSpec Spec = new() { RunId = "run-7", BaseModel = "models/base", Data = "prepared/run-7" };
    const string SpecPath = "runs/run-7/jobs/train/spec.json";

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task The_trainer_gets_the_spec_path_and_store_and_its_success_is_reported()
    {
        Directory.CreateDirectory(Path.Combine(_harness.Scratch, "runs", "run-7"));
        using var launcher = new LocalProcessJobLauncher(ScriptTrainer.Write(_harness.Scratch, ScriptTrainer.Succeeds), _harness.Scratch);

        var job = await launcher.StartAsync(Spec, SpecPath);
        var status = await Bounded.UntilAsync(() => launcher.GetStatusAsync(job), s => s.State != JobState.Running, $"job {job.ExecutionId} ending");

        Assert.Equal(JobState.Succeeded, status.State);
        Assert.True(File.Exists(Path.Combine(_harness.Scratch, "runs", "run-7", "metrics.jsonl")));
    }

    [Fact]
    public async Task A_job_this_worker_did_not_start_is_reported_lost_with_the_reason()
    {
        using var launcher = new LocalProcessJobLauncher(ScriptTrainer.Write(_harness.Scratch, ScriptTrainer.Succeeds), _harness.Scratch);

        var status = await launcher.GetStatusAsync(new JobHandle("run-7", JobKinds.Train, "local", "pid-1"));

        Assert.Equal(JobState.Lost, status.State);
        Assert.Equal("no trainer process pid-1 in this worker (it was restarted)", status.Error);
    }

    [Fact]
    public async Task Stopping_a_running_job_ends_it_as_failed()
    {
        using var launcher = new LocalProcessJobLauncher(ScriptTrainer.Write(_harness.Scratch, ScriptTrainer.RunsForever), _harness.Scratch);
        var job = await launcher.StartAsync(Spec, SpecPath);
        Assert.Equal(JobState.Running, (await launcher.GetStatusAsync(job)).State);

        await launcher.StopAsync(job);
        var status = await Bounded.UntilAsync(() => launcher.GetStatusAsync(job), s => s.State != JobState.Running, $"job {job.ExecutionId} ending");

        Assert.Equal(JobState.Failed, status.State);
        Assert.StartsWith("trainer exited with code 137", status.Error);
    }
}
