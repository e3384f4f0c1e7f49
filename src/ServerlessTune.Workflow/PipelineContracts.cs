using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Registry;

namespace ServerlessTune.Pipeline.Orchestration;

// The records that cross the durable boundary (orchestration input/output, activity inputs/outputs).
// They are serialised into the run's history, so they carry names and numbers, never services or secrets.
// The configuration travels as the user's JSON text and is parsed where it is needed: one source of truth.

/// <param name="Project">Validated project name (datasets/{project}/ holds the raw files).</param>
/// <param name="ConfigJson">pipeline.json text; null = defaults.</param>
/// <param name="ConfigSource">Names the config in error messages, e.g. datasets/acme/pipeline.json.</param>
/// <param name="BaseModel">Overrides the config's base_model (the CLI's offline starter model); null = use the config's.</param>
public sealed record PipelineInput(
    string Project,
    string? ConfigJson = null,
    string ConfigSource = "pipeline.json",
    string? BaseModel = null,
    PipelineTiming? Timing = null);

/// <summary>How the orchestrator waits and retries. Defaults suit a real run; tests shorten them.</summary>
public sealed record PipelineTiming(
    double PollSeconds = 30,
    double TrainingTimeoutMinutes = 12 * 60,
    double ApprovalTimeoutHours = 7 * 24,
    double RetryFirstSeconds = 5,
    int RetryMaxAttempts = 5);

public static class PipelineOutcome
{
    public const string Completed = "Completed";
    public const string GateFailed = "GateFailed";
}

/// <param name="Outcome"><see cref="PipelineOutcome"/>: Completed (deployed) or GateFailed (nothing deployed).</param>
public sealed record PipelineResult(
    string RunId,
    string Project,
    string Outcome,
    GateRecord Gate,
    string? Version,
    string? Alias,
    string DatasetVersion,
    IReadOnlyDictionary<string, double> Metrics);

/// <summary>Custom status of a running pipeline, for users watching it.</summary>
/// <param name="Progress">0..1 over the whole run.</param>
public sealed record PipelineStatus(string Step, double Progress, int? TrainingStep = null, double? Loss = null, string? Message = null);

/// <param name="BaseModel">The resolved base model folder: its tokenizer, chat template and context shape the prepared data.</param>
public sealed record PrepareDataInput(string Project, string RunId, string BaseModel, string? ConfigJson, string ConfigSource);

/// <param name="Prefix">prepared/{runId}: train.jsonl, validation.jsonl, stats.json, ...</param>
/// <param name="DatasetVersion">Hash of the inputs and the preparation config.</param>
public sealed record PreparedData(string Prefix, string DatasetVersion, long TrainRecords, long ValidationRecords);

/// <param name="Relaunch">Start again although a job was recorded for the run (it was lost).</param>
public sealed record StartTrainingInput(string Project, string RunId, string BaseModel, string DataPrefix, string? ConfigJson, string ConfigSource,
    bool Relaunch = false);

/// <param name="ExecutionId">The launcher's handle: a process key locally, a job execution name in Container Apps.</param>
public sealed record TrainingJob(string RunId, string Launcher, string ExecutionId);

/// <summary>Lost: the job neither runs nor finished (its worker went away); starting it again resumes from its last checkpoint.</summary>
public enum JobState { Running, Succeeded, Failed, Lost }

/// <param name="Error">The job's own message when it failed.</param>
public sealed record TrainingStatus(JobState State, int? Step = null, double? Loss = null, string? Error = null, int? TotalSteps = null);

/// <param name="Family">One of EvalSettings.AllFamilies.</param>
/// <param name="BaseModel">The resolved store folder of the base model; the candidate is the run's own output (see RunOutputs).</param>
public sealed record EvaluateInput(string Project, string RunId, string Family, string BaseModel, string DataPrefix,
    string? ConfigJson, string ConfigSource);

/// <summary>One family's figures for every model evaluated (base, candidate, production).</summary>
public sealed record FamilyResult(string Family, IReadOnlyList<FamilyOutput> Outputs);

public sealed record GateInput(string Project, string RunId, string DataPrefix, IReadOnlyList<FamilyResult> Families, string? ConfigJson, string ConfigSource);

/// <summary>The gate's verdict and the candidate's figures (for the registry); the full report is in reports/{runId}/.</summary>
public sealed record GateDecision(GateRecord Gate, IReadOnlyDictionary<string, double> Metrics);

public sealed record DeployInput(
    string Project,
    string RunId,
    DateTimeOffset RunStartedUtc,
    string BaseModel,
    string DatasetVersion,
    IReadOnlyDictionary<string, double> Metrics,
    GateRecord Gate,
    string Alias);

public sealed record Deployment(string Version, string Alias);

/// <summary>The external event a person raises to decide a manual gate.</summary>
public sealed record ApprovalDecision(bool Approved, string? By = null, string? Comment = null);
