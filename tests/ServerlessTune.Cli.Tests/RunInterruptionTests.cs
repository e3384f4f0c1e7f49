using System.Runtime.InteropServices;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Cli.Tests;

/// <summary>
/// `stune run` (the real executable, its real trainer child) over a local store, killed with SIGKILL and stopped
/// with SIGTERM during training, then started again: no trainer outlives it, and the run continues from its
/// checkpoints to exactly the weights and losses of a run nobody interrupted.
/// </summary>
[Collection(InterruptedRunsCollection.Name)]
public sealed class RunInterruptionTests(UninterruptedRun uninterrupted) : IDisposable
{
    const int SIGTERM = 15;
    static readonly TimeSpan Bound = RunArtifacts.Bound;
    readonly string _root = Directory.CreateTempSubdirectory("stune-interrupt-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task A_killed_then_stopped_run_resumes_to_the_weights_of_an_uninterrupted_run_and_leaves_no_trainer()
    {
        string dataset = uninterrupted.Dataset, store = Path.Combine(_root, "store");
        var run = new RunArtifacts(new LocalFolderStore(store));

        string runId;
        string firstStepLine;
        using (var first = Stune.Start(["run", dataset, "--store", store]))
        {
            runId = await run.WaitForCheckpointAsync(first, atLeast: 1);
            int trainer = await run.TrainerPidAsync(runId);
            first.Process.Kill(); // SIGKILL of stune alone: no handler runs, the trainer is not signalled
            first.Wait(Bound);
            Assert.True(RunArtifacts.WaitUntilGone(trainer), $"trainer {trainer} outlived its killed parent");
            // It noticed its parent's death and checkpointed as on SIGTERM.
            Assert.Contains("\"interrupted\"", await run.TrainStatusAsync(runId));
            firstStepLine = (await run.TrainLinesAsync(runId))[0];
        }

        int stoppedAt;
        using (var second = Stune.Start(["run", dataset, "--store", store]))
        {
            int before = await run.LatestCheckpointAsync(runId);
            Assert.Equal(runId, await run.WaitForCheckpointAsync(second, atLeast: before + 1));
            int trainer = await run.TrainerPidAsync(runId);
            Assert.Equal(0, kill(second.Process.Id, SIGTERM));
            var stopped = second.Wait(Bound);
            Assert.Equal(130, stopped.ExitCode);
            Assert.Contains($"run {runId} of project acme did not finish on the same files and options: continuing it", stopped.Stderr);
            Assert.Contains($"continue it with: stune run --resume {runId} --store {store}", stopped.Stderr);
            Assert.DoesNotContain("   at ", stopped.Stderr);
            Assert.True(RunArtifacts.WaitUntilGone(trainer), $"trainer {trainer} outlived a stopped run");
            stoppedAt = await run.LatestCheckpointAsync(runId);
            Assert.True(stoppedAt > before);
        }

        var resumed = Stune.Run(["run", "--resume", runId, "--store", store], null);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains($"run {runId}: Completed", resumed.Stdout);
        // Continued, not restarted: the first process's line for step 1 is still there, byte for byte.
        await run.AssertSameAsUninterruptedAsync(runId, firstStepLine, uninterrupted.Result, stoppedAt);
    }

    [DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int sig);
}
