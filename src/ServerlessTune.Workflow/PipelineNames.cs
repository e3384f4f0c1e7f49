namespace ServerlessTune.Workflow;

/// <summary>
/// The names the orchestrator schedules work by. The embedded runner (<see cref="PipelineTasks"/>) and the
/// Functions app (one trigger per name) run the same step methods under them; a test host may register its own
/// activity under one of them.
/// </summary>
public static class PipelineNames
{
    public const string Orchestrator = "FineTunePipeline";
    public const string ResolveBaseModel = "ResolveBaseModel";
    public const string PrepareData = "PrepareData";
    public const string StartTraining = "StartTraining";
    public const string StartEvaluation = "StartEvaluation";
    /// <summary>Evaluates a hosted candidate through chat completions (no job: the service runs the models).</summary>
    public const string EvaluateHosted = "EvaluateHosted";
    /// <summary>Polls any job of the run (training or evaluation).</summary>
    public const string GetJobStatus = "GetJobStatus";
    public const string StopJob = "StopJob";
    public const string Gate = "Gate";
    public const string Deploy = "Deploy";
    /// <summary>Writes the monitoring dashboard after Deploy.</summary>
    public const string WriteDashboard = "WriteDashboard";
    /// <summary>External event carrying an <see cref="ApprovalDecision"/> for a manual gate.</summary>
    public const string ApprovalEvent = "Approval";
}
