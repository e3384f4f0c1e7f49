using Azure.Data.Tables;
using ServerlessTune.Azure.Storage;
using ServerlessTune.Workflow;
using ServerlessTune.Workflow.Tests.Storage;

namespace ServerlessTune.Cli.Tests;

/// <summary>
/// `stune run --connection` keeps its orchestration in the Durable Task Azure Storage backend (over Azurite's blob,
/// queue and table services). Killed with SIGKILL during training and started again, the same orchestration instance
/// goes on (one execution in its history, the steps before training not run again), no trainer outlives the killed
/// process, and the run ends with the losses and weights of a run nobody interrupted.
/// </summary>
[Collection(InterruptedRunsCollection.Name)]
public sealed class DurableRunResumeTests(UninterruptedRun uninterrupted, AzuriteFixture azurite)
{
    // The task hub is named after the container; letters only, so the two names are equal.
    const string Container = "durableresume";

    [Fact]
    public async Task A_killed_run_over_Azure_Storage_continues_the_same_orchestration_instance_to_the_uninterrupted_result()
    {
        string dataset = uninterrupted.Dataset;
        var run = new RunArtifacts(await BlobArtifactStore.ConnectAsync(azurite.ConnectionString, Container));
        string[] command = ["run", dataset, "--connection", azurite.ConnectionString, "--container", Container];

        string runId, firstStepLine;
        int killedAt;
        using (var first = Stune.Start(command))
        {
            runId = await run.WaitForCheckpointAsync(first, atLeast: 1);
            int trainer = await run.TrainerPidAsync(runId);
            first.Process.Kill(); // SIGKILL: no handler runs, the engine's lease and messages are left as they were
            first.Wait(RunArtifacts.Bound);
            Assert.True(RunArtifacts.WaitUntilGone(trainer), $"trainer {trainer} outlived its killed parent");
            Assert.Contains("\"interrupted\"", await run.TrainStatusAsync(runId));
            firstStepLine = (await run.TrainLinesAsync(runId))[0];
            killedAt = await run.LatestCheckpointAsync(runId);
        }
        var started = await InstanceAsync(runId);

        var second = Stune.Run(command, null);
        Assert.True(second.ExitCode == 0, second.Stderr);
        Assert.Contains($"run {runId}: Completed", second.Stdout);
        Assert.Contains($"run {runId} of project acme did not finish on the same files and options: continuing it", second.Stderr);

        // The same instance and execution, not a new one under the same id: one start in its history, and the steps
        // finished before the kill (resolving the base model, preparing the data) scheduled once.
        var instance = await InstanceAsync(runId);
        Assert.Equal("Completed", instance.GetString("RuntimeStatus"));
        Assert.Equal(started.GetString("ExecutionId"), instance.GetString("ExecutionId"));
        var history = await HistoryAsync(runId);
        Assert.Single(history, e => e.GetString("EventType") == "ExecutionStarted");
        Assert.Single(history.Select(e => e.GetString("ExecutionId")).Distinct());
        Assert.Single(history, e => e.GetString("EventType") == "TaskScheduled" && e.GetString("Name") == PipelineNames.ResolveBaseModel);
        Assert.Single(history, e => e.GetString("EventType") == "TaskScheduled" && e.GetString("Name") == PipelineNames.PrepareData);
        // Training was started again once, by the same orchestration, for the job lost with the killed process.
        Assert.Equal(2, history.Count(e => e.GetString("EventType") == "TaskScheduled" && e.GetString("Name") == PipelineNames.StartTraining));

        await run.AssertSameAsUninterruptedAsync(runId, firstStepLine, uninterrupted.Result, killedAt);
    }

    async Task<TableEntity> InstanceAsync(string runId)
    {
        var instances = new TableClient(azurite.ConnectionString, Container + "Instances");
        return (await instances.GetEntityAsync<TableEntity>(runId, "")).Value;
    }

    async Task<List<TableEntity>> HistoryAsync(string runId)
    {
        var history = new TableClient(azurite.ConnectionString, Container + "History");
        var events = new List<TableEntity>();
        await foreach (var e in history.QueryAsync<TableEntity>(e => e.PartitionKey == runId)) events.Add(e);
        return events;
    }
}
