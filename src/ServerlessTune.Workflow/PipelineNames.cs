namespace ServerlessTune.Pipeline.Orchestration;

/// <summary>
/// The names the orchestrator schedules work by. The local runner and the Functions app register the
/// same classes under these names; a test host may register its own activity under one of them.
/// </summary>
public static class PipelineNames
{
    public const string Orchestrator = "FineTunePipeline";
    public const string ResolveBaseModel = "ResolveBaseModel";
    public const string PrepareData = "PrepareData";
    public const string StartTraining = "StartTraining";
    public const string GetTrainingStatus = "GetTrainingStatus";
    public const string StopTraining = "StopTraining";
    public const string Evaluate = "Evaluate";
    public const string Gate = "Gate";
    public const string Deploy = "Deploy";
    /// <summary>External event carrying an <see cref="ApprovalDecision"/> for a manual gate.</summary>
    public const string ApprovalEvent = "Approval";
}
