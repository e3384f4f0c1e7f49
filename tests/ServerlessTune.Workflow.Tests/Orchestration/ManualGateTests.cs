using Microsoft.DurableTask.Client;
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

    /// <param name="decision">Raised once the run waits for it; null: none, the run waits until its approval timeout.</param>
    async Task<PipelineRunResult> RunUntilApprovalAsync(string runId, double candidatePerplexity, ApprovalDecision? decision,
        TimingOptions? timing = null)
    {
        await PipelineHarness.AddDatasetAsync(_store);
        // Scripted evaluation: each decision is taken on known figures (a candidate at 2.0 or 4.0 against the base's 3.0),
        // so the rules' advice is known on every CPU and the person's decision is what the test varies.
        using var launcher = new LocalProcessJobLauncher(
            ScriptTrainer.Write(_harness.Scratch, ScriptTrainer.Succeeds, new ScriptedEvaluation(candidatePerplexity)), _store.Location);
        await using var host = await PipelineTestHost.StartAsync(_store, launcher);
        await host.Client.ScheduleNewOrchestrationInstanceAsync(PipelineNames.Orchestrator, PipelineHarness.Input(Config) with { Timing = timing ?? PipelineHarness.FastTiming }, new Microsoft.DurableTask.StartOrchestrationOptions(runId));

        // Bounded: a run that never reaches the gate fails the test instead of hanging it.
        var waiting = await Bounded.UntilAsync(() => host.Client.GetInstanceAsync(runId, getInputsAndOutputs: true),
            run => run is { IsCompleted: true } || run?.ReadCustomStatusAs<PipelineStatus>()?.Step == "AwaitingApproval", $"run {runId} reaching its manual gate");
        Assert.False(waiting!.IsCompleted);
        Assert.False(await _store.ExistsAsync("registry/acme/aliases.json"));

        if (decision is not null) await host.Client.RaiseEventAsync(runId, PipelineNames.ApprovalEvent, decision);
        var done = await Bounded.CompletionAsync(host.Client, runId, getInputsAndOutputs: true);
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

    [Fact]
    public async Task No_approval_within_the_timeout_ends_the_run_GateFailed_and_registers_nothing()
    {
        // A candidate the rules would pass (2.0 against the base's 3.0): without a person's approval it is not deployed.
        var run = await RunUntilApprovalAsync("run-unanswered", 2.0, decision: null, PipelineHarness.FastTiming with { ApprovalTimeoutHours = 0.001 });

        Assert.Equal(PipelineOutcome.GateFailed, run.Status);
        Assert.False(run.Gate!.Passed);
        Assert.Equal(["no approval within 0.001 hours"], run.Gate.Reasons);
        Assert.Null(run.Version);
        Assert.False(await _store.ExistsAsync("registry/acme/aliases.json"));
        Assert.Empty(await new ModelRegistry(_store).ListAsync("acme"));
    }
}
