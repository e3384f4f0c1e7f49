using Microsoft.DurableTask;
using ServerlessTune.Core;
using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Pipeline;
using ServerlessTune.Core.Registry;

namespace ServerlessTune.Pipeline.Orchestration;

/// <summary>
/// PrepareData -> Train -> Evaluate (one activity per metric family, in parallel) -> Gate -> Deploy.
/// Orchestrator code is replayed, so it only decides: all I/O happens in activities, time comes from
/// the context, and waiting is a durable timer or an external event.
/// </summary>
[DurableTask(PipelineNames.Orchestrator)]
public sealed class FineTunePipeline : TaskOrchestrator<PipelineInput, PipelineResult>
{
    const int MaxRelaunches = 3;

    public override async Task<PipelineResult> RunAsync(TaskOrchestrationContext context, PipelineInput input)
    {
        string runId = context.InstanceId;
        var timing = input.Timing ?? new PipelineTiming();
        var retry = PipelineRetry.Transient(timing);
        var started = context.CurrentUtcDateTime;
        // Parsing is pure; a bad config fails the run at once instead of after preparing the data.
        var config = PipelineConfigParser.Parse(input.ConfigJson ?? "{}", input.ConfigSource);
        string baseModelSpec = input.BaseModel ?? config.BaseModel
            ?? throw new UserInputException($"{input.ConfigSource}: base_model: missing (name a store prefix, local folder, hub id or init:<arch>-<preset>)");

        // First, so a base model that cannot be had fails the run before any other work.
        context.SetCustomStatus(new PipelineStatus("ResolveBaseModel", 0));
        string baseModel = await Step(context, "ResolveBaseModel", () => context.CallActivityAsync<string>(PipelineNames.ResolveBaseModel,
            baseModelSpec, retry));

        context.SetCustomStatus(new PipelineStatus("PrepareData", 0.02));
        var prepared = await Step(context, "PrepareData", () => context.CallActivityAsync<PreparedData>(PipelineNames.PrepareData,
            new PrepareDataInput(input.Project, runId, baseModel, input.ConfigJson, input.ConfigSource), retry));

        string runPrefix = $"runs/{runId}";
        await TrainAsync(context, new StartTrainingInput(input.Project, runId, baseModel, prepared.Prefix, input.ConfigJson, input.ConfigSource),
            config, timing, retry);

        context.SetCustomStatus(new PipelineStatus("Evaluate", 0.75));
        var families = await Step(context, "Evaluate", () => Task.WhenAll(config.Eval.Families.Select(family =>
            context.CallActivityAsync<FamilyResult>(PipelineNames.Evaluate,
                new EvaluateInput(input.Project, runId, family, baseModel, prepared.Prefix, input.ConfigJson, input.ConfigSource), retry))));

        context.SetCustomStatus(new PipelineStatus("Gate", 0.85));
        var decision = await Step(context, "Gate", () => context.CallActivityAsync<GateDecision>(PipelineNames.Gate,
            new GateInput(input.Project, runId, prepared.Prefix, families, input.ConfigJson, input.ConfigSource), retry));
        var gate = decision.Gate;
        if (config.Gate.Mode == GateMode.Manual)
            gate = await AwaitApprovalAsync(context, gate, timing);

        var metrics = decision.Metrics;
        if (!gate.Passed && config.Gate.Mode != GateMode.Advisory)
        {
            context.SetCustomStatus(new PipelineStatus(PipelineOutcome.GateFailed, 1, Message: string.Join("; ", gate.Reasons)));
            return new PipelineResult(runId, input.Project, PipelineOutcome.GateFailed, gate, null, null, prepared.DatasetVersion, metrics);
        }

        context.SetCustomStatus(new PipelineStatus("Deploy", 0.95));
        var deployment = await Step(context, "Deploy", () => context.CallActivityAsync<Deployment>(PipelineNames.Deploy,
            new DeployInput(input.Project, runId, started, baseModel, prepared.DatasetVersion, metrics, gate, config.DeployAlias), retry));

        context.SetCustomStatus(new PipelineStatus(PipelineOutcome.Completed, 1, Message: $"{deployment.Alias} -> {deployment.Version}"));
        return new PipelineResult(runId, input.Project, PipelineOutcome.Completed, gate, deployment.Version, deployment.Alias,
            prepared.DatasetVersion, metrics);
    }

    /// <summary>Starts the job, then polls it on a durable timer until it ends or the timeout passes.</summary>
    static async Task TrainAsync(TaskOrchestrationContext context, StartTrainingInput start, PipelineConfig config, PipelineTiming timing, TaskOptions retry)
    {
        context.SetCustomStatus(new PipelineStatus("Train", 0.1));
        var job = await Step(context, "Train", () => context.CallActivityAsync<TrainingJob>(PipelineNames.StartTraining, start, retry));
        var deadline = context.CurrentUtcDateTime.AddMinutes(timing.TrainingTimeoutMinutes);
        var status = await PollAsync(context, job, config, retry);
        int relaunches = 0;
        while (status.State is JobState.Running or JobState.Lost)
        {
            if (status.State == JobState.Lost)
            {
                // The worker that ran the job went away; the trainer resumes from its last checkpoint.
                if (++relaunches > MaxRelaunches)
                    throw Failed(context, "Train", $"training job {job.ExecutionId} was lost {MaxRelaunches} times: {status.Error}");
                job = await Step(context, "Train", () => context.CallActivityAsync<TrainingJob>(PipelineNames.StartTraining, start with { Relaunch = true }, retry));
                status = await PollAsync(context, job, config, retry);
                continue;
            }
            // The deadline bounds the loop, and with it the history the polls write.
            if (context.CurrentUtcDateTime >= deadline)
            {
                await Step(context, "Train", () => context.CallActivityAsync(PipelineNames.StopTraining, job, retry));
                throw Failed(context, "Train", $"training job {job.ExecutionId} did not finish within {timing.TrainingTimeoutMinutes} minutes and was stopped");
            }
            await context.CreateTimer(context.CurrentUtcDateTime.AddSeconds(timing.PollSeconds), CancellationToken.None);
            status = await PollAsync(context, job, config, retry);
        }
        if (status.State == JobState.Failed)
            throw Failed(context, "Train", $"training job {job.ExecutionId} failed: {status.Error}");
    }

    static async Task<TrainingStatus> PollAsync(TaskOrchestrationContext context, TrainingJob job, PipelineConfig config, TaskOptions retry)
    {
        var status = await Step(context, "Train", () => context.CallActivityAsync<TrainingStatus>(PipelineNames.GetTrainingStatus, job, retry));
        int? total = status.TotalSteps ?? config.Train.MaxSteps;
        double within = total is > 0 && status.Step is { } step ? Math.Min(1, (double)step / total.Value) : 0;
        context.SetCustomStatus(new PipelineStatus("Train", 0.1 + 0.6 * within, status.Step, status.Loss));
        return status;
    }

    /// <summary>A person confirms or overrides the gate's advice; no answer within the timeout counts as a rejection.</summary>
    static async Task<GateRecord> AwaitApprovalAsync(TaskOrchestrationContext context, GateRecord gate, PipelineTiming timing)
    {
        context.SetCustomStatus(new PipelineStatus("AwaitingApproval", 0.9, Message: gate.Passed ? "gate passed" : string.Join("; ", gate.Reasons)));
        ApprovalDecision decision;
        try
        {
            decision = await context.WaitForExternalEvent<ApprovalDecision>(PipelineNames.ApprovalEvent,
                TimeSpan.FromHours(timing.ApprovalTimeoutHours));
        }
        catch (TaskCanceledException)
        {
            return gate with { Passed = false, Reasons = [.. gate.Reasons, $"no approval within {timing.ApprovalTimeoutHours} hours"] };
        }
        string who = decision.By is { Length: > 0 } by ? $" by {by}" : "";
        string why = decision.Comment is { Length: > 0 } comment ? $": {comment}" : "";
        return decision.Approved
            ? gate with { Passed = true }
            : gate with { Passed = false, Reasons = [.. gate.Reasons, $"rejected{who}{why}"] };
    }

    /// <summary>Runs one step; an activity that failed for good fails the run with the step's name and the activity's own message.</summary>
    static async Task<T> Step<T>(TaskOrchestrationContext context, string step, Func<Task<T>> run)
    {
        try { return await run(); }
        catch (TaskFailedException e) { throw Failed(context, step, Innermost(e.FailureDetails).ErrorMessage); }
    }

    static Task Step(TaskOrchestrationContext context, string step, Func<Task> run) =>
        Step(context, step, async () => { await run(); return true; });

    static TaskFailureDetails Innermost(TaskFailureDetails details) =>
        details.ErrorType == typeof(TaskFailedException).FullName && details.InnerFailure is { } inner ? Innermost(inner) : details;

    static PipelineFailedException Failed(TaskOrchestrationContext context, string step, string message)
    {
        context.SetCustomStatus(new PipelineStatus("Failed", 1, Message: $"{step}: {message}"));
        return new PipelineFailedException(step, message);
    }
}

/// <summary>Ends a run: the step that failed and why, as the run's failure message.</summary>
public sealed class PipelineFailedException(string step, string message) : Exception($"{step}: {message}")
{
    public string Step { get; } = step;
}
