using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;
using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Storage;
using ServerlessTune.Workflow.Jobs;
using ServerlessTune.Workflow.Runner;

namespace ServerlessTune.Workflow.Tests.Orchestration;

/// <summary>A manual gate waits for a person's decision, raised as an external event through the durable client.</summary>
public sealed class ManualGateTests : IDisposable
{
    const string Config = """{ "gate": { "mode": "manual", "rules": [ { "metric": "perplexity", "op": "<=", "relative_to": "base" } ] } }""";
    readonly PipelineHarness _harness = new();
    readonly LocalFolderStore _store;

    public ManualGateTests() => _store = new LocalFolderStore(Path.Combine(_harness.Scratch, "store"));

    public void Dispose() => _harness.Dispose();

    async Task<PipelineRunResult> RunUntilApprovalAsync(string runId, double candidatePerplexity, ApprovalDecision decision)
    {
        await PipelineHarness.AddDatasetAsync(_store);
        using var launcher = new LocalProcessJobLauncher(
            ScriptTrainer.Write(_harness.Scratch, ScriptTrainer.Succeeds, new ScriptedEvaluation(candidatePerplexity)), _store.Location);
        await using var host = await DurableTaskTestHost.StartAsync(
            registry => PipelineTasks.Register(registry),
            new DurableTaskTestHostOptions { ConfigureServices = services => services.AddPipelineServices(_store, launcher) });
        await host.Client.ScheduleNewOrchestrationInstanceAsync(PipelineNames.Orchestrator, PipelineHarness.Input(Config), new Microsoft.DurableTask.StartOrchestrationOptions(runId));

        // Bounded: a run that never reaches the gate fails the test instead of hanging it.
        using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        OrchestrationMetadata? waiting;
        do
        {
            await Task.Delay(50, bound.Token);
            waiting = await host.Client.GetInstanceAsync(runId, getInputsAndOutputs: true, bound.Token);
        }
        while (waiting is { IsCompleted: false } && waiting.ReadCustomStatusAs<PipelineStatus>()?.Step != "AwaitingApproval");
        Assert.False(waiting!.IsCompleted);
        Assert.False(await _store.ExistsAsync("registry/acme/aliases.json"));

        await host.Client.RaiseEventAsync(runId, PipelineNames.ApprovalEvent, decision);
        var done = await host.Client.WaitForInstanceCompletionAsync(runId, getInputsAndOutputs: true, bound.Token);
        return PipelineRunner.Summarise(runId, done);
    }

    [Fact]
    public async Task An_approved_run_deploys_to_production()
    {
        var run = await RunUntilApprovalAsync("run-approved", 2.0, new ApprovalDecision(true, "dana"));

        Assert.Equal(PipelineOutcome.Completed, run.Status);
        Assert.Equal(GateMode.Manual, run.Gate!.Mode);
        Assert.Equal(run.Version, (await new ModelRegistry(_store).GetAliasesAsync("acme"))["production"]);
    }

    [Fact]
    public async Task A_rejected_run_ends_GateFailed_with_who_and_why()
    {
        var run = await RunUntilApprovalAsync("run-rejected", 2.0, new ApprovalDecision(false, "dana", "answers sound too formal"));

        Assert.Equal(PipelineOutcome.GateFailed, run.Status);
        Assert.Equal(["rejected by dana: answers sound too formal"], run.Gate!.Reasons);
        Assert.False(await _store.ExistsAsync("registry/acme/aliases.json"));
    }

    [Fact]
    public async Task A_person_can_approve_a_candidate_the_rules_refuse_and_it_deploys()
    {
        // Perplexity 4.0 is worse than the base's 3.0: the rule refuses it, the person overrides the advice.
        var run = await RunUntilApprovalAsync("run-override", 4.0, new ApprovalDecision(true, "dana", "better tone, slightly worse perplexity"));

        Assert.Equal(PipelineOutcome.Completed, run.Status);
        Assert.True(run.Gate!.Passed);
        Assert.Contains(run.Gate.Reasons, r => r.Contains("perplexity"));
        Assert.Equal(run.Version, (await new ModelRegistry(_store).GetAliasesAsync("acme"))["production"]);
    }
}
