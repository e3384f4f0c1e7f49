using Microsoft.DurableTask;
using ServerlessTune.Core;
using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Hosted;
using ServerlessTune.Core.Jobs;

namespace ServerlessTune.Workflow;

/// <summary>
/// ResolveBaseModel -> PrepareData -> Train (a job) -> Evaluate (a job) -> Gate -> Deploy -> WriteDashboard. Each step is a file in
/// Steps/; the two that need libtorch run as jobs in the job container, polled here on durable timers. With a hosted
/// base model (azure-openai:..., openai:...) the training job runs at the service, polled by the same loop, and the
/// evaluation is one activity that calls the models through chat completions.
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
        var timing = input.Timing ?? new TimingOptions();
        var retry = PipelineRetry.Transient(timing);
        var started = context.CurrentUtcDateTime;
        var options = input.Options;
        string baseModelSpec = options.BaseModel
            ?? throw new UserInputException($"{input.OptionsSource}: base_model: missing (name a store prefix, local folder, hub id or init:<arch>-<preset>)");

        // First, so a base model that cannot be had fails the run before any other work.
        context.SetCustomStatus(new PipelineStatus("ResolveBaseModel", 0));
        string baseModel = await Step(context, "ResolveBaseModel", () => context.CallActivityAsync<string>(PipelineNames.ResolveBaseModel,
            baseModelSpec, retry));

        context.SetCustomStatus(new PipelineStatus("PrepareData", 0.02));
        var prepared = await Step(context, "PrepareData", () => context.CallActivityAsync<PreparedData>(PipelineNames.PrepareData,
            new PrepareDataInput(input.Project, runId, baseModel, options.Prepare, options.Tokenizer, options.ChatTemplate, options.Feedback), retry));

        context.SetCustomStatus(new PipelineStatus("Train", 0.1));
        var train = new TrainInput(input.Project, runId, baseModel, prepared.Prefix, options.Train, options.ChatTemplate, Hosted: options.HostedTrain);
        await RunJobAsync(context, "Train", relaunch => context.CallActivityAsync<JobHandle>(PipelineNames.StartTraining, train with { Relaunch = relaunch }, retry),
            status =>
            {
                int? total = status.TotalSteps ?? options.Train.MaxSteps;
                double within = total is > 0 && status.Step is { } step ? Math.Min(1, (double)step / total.Value) : 0;
                return new PipelineStatus("Train", 0.1 + 0.6 * within, status.Step, status.Loss, status.Message);
            }, timing, retry);

        context.SetCustomStatus(new PipelineStatus("Evaluate", 0.75));
        var evaluate = new EvaluateInput(input.Project, runId, baseModel, prepared.Prefix, options.Eval, options.ChatTemplate,
            Format: options.Deploy.Format);
        if (HostedBaseModel.IsHosted(baseModel))
            await Step(context, "Evaluate", () => context.CallActivityAsync(PipelineNames.EvaluateHosted, evaluate, retry));
        else
            await RunJobAsync(context, "Evaluate", relaunch => context.CallActivityAsync<JobHandle>(PipelineNames.StartEvaluation, evaluate with { Relaunch = relaunch }, retry),
                _ => new PipelineStatus("Evaluate", 0.75), timing, retry);

        context.SetCustomStatus(new PipelineStatus("Gate", 0.85));
        var candidate = await Step(context, "Gate", () => context.CallActivityAsync<GatedCandidate>(PipelineNames.Gate,
            new GateInput(input.Project, runId, prepared.Prefix, options.Eval, options.Gate, options.ChatTemplate,
                options.Prepare.NearDuplicateThreshold), retry));
        var gate = candidate.Gate;
        if (options.Gate.Mode == GateMode.Manual)
            gate = await AwaitApprovalAsync(context, gate, timing);

        var metrics = candidate.Metrics;
        if (!gate.Passed && options.Gate.Mode != GateMode.Advisory)
        {
            context.SetCustomStatus(new PipelineStatus(PipelineOutcome.GateFailed, 1, Message: string.Join("; ", gate.Reasons)));
            return new PipelineResult(runId, input.Project, PipelineOutcome.GateFailed, gate, null, null, prepared.DatasetVersion, metrics);
        }

        context.SetCustomStatus(new PipelineStatus("Deploy", 0.95));
        var deployment = await Step(context, "Deploy", () => context.CallActivityAsync<Deployment>(PipelineNames.Deploy,
            new DeployInput(input.Project, runId, started, baseModel, prepared.DatasetVersion, metrics, gate, options.DeployAlias,
                prepared.ChatTemplate, options.Deploy.Format), retry));
        context.SetCustomStatus(new PipelineStatus("WriteDashboard", 0.99));
        await Step(context, "WriteDashboard", () => context.CallActivityAsync<string>(PipelineNames.WriteDashboard,
            new DashboardInput(input.Project, runId), retry));

        context.SetCustomStatus(new PipelineStatus(PipelineOutcome.Completed, 1, Message: deployment.Alias is { } alias
            ? $"{alias} -> {deployment.Version}" : $"registered {deployment.Version}; {options.DeployAlias} stays on a newer run's version"));
        return new PipelineResult(runId, input.Project, PipelineOutcome.Completed, gate, deployment.Version, deployment.Alias,
            prepared.DatasetVersion, metrics);
    }

    /// <summary>
    /// Starts a job, then polls it on a durable timer until it ends or the timeout passes. A job lost with its
    /// worker is started again (it resumes from what it saved); one past its deadline is stopped.
    /// </summary>
    /// <param name="start">Starts the job; true asks for a relaunch of a job that was recorded but lost.</param>
    static async Task RunJobAsync(TaskOrchestrationContext context, string step, Func<bool, Task<JobHandle>> start,
        Func<JobProgress, PipelineStatus> progress, TimingOptions timing, TaskOptions retry)
    {
        var job = await Step(context, step, () => start(false));
        var deadline = context.CurrentUtcDateTime.AddMinutes(timing.JobTimeoutMinutes);
        var status = await PollAsync(context, step, job, progress, retry);
        int relaunches = 0;
        while (status.State is JobState.Running or JobState.Lost)
        {
            if (status.State == JobState.Lost)
            {
                if (++relaunches > MaxRelaunches)
                    throw Failed(context, step, $"{Describe(job)} was lost {relaunches} times, past the limit of {MaxRelaunches} relaunches: {status.Error}");
                job = await Step(context, step, () => start(true));
                status = await PollAsync(context, step, job, progress, retry);
                continue;
            }
            // The deadline bounds the loop, and with it the history the polls write.
            if (context.CurrentUtcDateTime >= deadline)
            {
                await Step(context, step, () => context.CallActivityAsync(PipelineNames.StopJob, job, retry));
                throw Failed(context, step, $"{Describe(job)} did not finish within {timing.JobTimeoutMinutes} minutes and was stopped");
            }
            await context.CreateTimer(context.CurrentUtcDateTime.AddSeconds(timing.PollSeconds), CancellationToken.None);
            status = await PollAsync(context, step, job, progress, retry);
        }
        if (status.State == JobState.Failed)
            throw Failed(context, step, $"{Describe(job)} failed: {status.Error}");
    }

    static async Task<JobProgress> PollAsync(TaskOrchestrationContext context, string step, JobHandle job, Func<JobProgress, PipelineStatus> progress,
        TaskOptions retry)
    {
        var status = await Step(context, step, () => context.CallActivityAsync<JobProgress>(PipelineNames.GetJobStatus, job, retry));
        context.SetCustomStatus(progress(status));
        return status;
    }

    static string Describe(JobHandle job) =>
        $"{(job.Launcher == HostedJobRecord.Launcher ? "hosted fine-tuning" : job.Kind == JobKinds.Train ? "training" : "evaluation")} job {job.ExecutionId}";

    /// <summary>A person confirms or overrides the gate's advice; no answer within the timeout counts as a rejection.</summary>
    static async Task<GateResult> AwaitApprovalAsync(TaskOrchestrationContext context, GateResult gate, TimingOptions timing)
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
            return gate with { Passed = false, Notes = [.. gate.Notes, $"no approval within {timing.ApprovalTimeoutHours} hours"] };
        }
        string who = decision.By is { Length: > 0 } by ? $" by {by}" : "";
        string why = decision.Comment is { Length: > 0 } comment ? $": {comment}" : "";
        return decision.Approved
            ? gate with { Passed = true }
            : gate with { Passed = false, Notes = [.. gate.Notes, $"rejected{who}{why}"] };
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
