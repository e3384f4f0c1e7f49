using ServerlessTune.Core.Data;
using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Hosted;
using ServerlessTune.Core.Feedback;
using ServerlessTune.Core.Jobs;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.PipelineConfig;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Training;

namespace ServerlessTune.Workflow;

// The records that cross the durable boundary (orchestration input/output, activity inputs/outputs).
// They are serialised into the run's history, so they carry names, numbers and the run's typed options
// (pipeline.json, parsed once where the run starts), never services or secrets.

/// <param name="Project">Validated project name (datasets/{project}/ holds the raw files).</param>
/// <param name="Options">The run's pipeline.json, parsed and validated before the run was scheduled.</param>
/// <param name="OptionsSource">Names the options in error messages, e.g. datasets/acme/pipeline.json.</param>
public sealed record PipelineInput(
    string Project,
    PipelineOptions Options,
    string OptionsSource = DatasetPaths.ConfigFile,
    TimingOptions? Timing = null);

/// <summary>How the orchestrator waits and retries. Defaults suit a real run; tests shorten them.</summary>
/// <param name="JobTimeoutMinutes">How long each job (training, evaluation) may run before it is stopped.</param>
public sealed record TimingOptions(
    double PollSeconds = 30,
    double JobTimeoutMinutes = 12 * 60,
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
    GateResult Gate,
    string? Version,
    string? Alias,
    string DatasetVersion,
    IReadOnlyDictionary<string, double> Metrics);

/// <summary>Custom status of a running pipeline, for users watching it.</summary>
/// <param name="Progress">0..1 over the whole run.</param>
public sealed record PipelineStatus(string Step, double Progress, int? TrainingStep = null, double? Loss = null, string? Message = null);

/// <param name="BaseModel">The resolved base model folder: its tokenizer, chat template and context shape the prepared data.</param>
/// <param name="Tokenizer">pipeline.json's tokenizer override; null = the base model's own.</param>
/// <param name="ChatTemplate">pipeline.json's chat template override; null = the one the base model's files imply.</param>
/// <param name="Feedback">pipeline.json's feedback section (null: its defaults).</param>
public sealed record PrepareDataInput(string Project, string RunId, string BaseModel, PrepareOptions Options, string? Tokenizer, string? ChatTemplate,
    FeedbackOptions? Feedback = null);

/// <param name="Prefix">prepared/{runId}: train.jsonl, validation.jsonl, stats.json, ...</param>
/// <param name="DatasetVersion">Hash of the inputs and the preparation options.</param>
/// <param name="ChatTemplate">The chat template the data was rendered with (training uses the same one; the registry records it for serving).</param>
public sealed record PreparedData(string Prefix, string DatasetVersion, long TrainRecords, long ValidationRecords, string ChatTemplate);

/// <param name="Relaunch">Start again although a job was recorded for the run (it was lost).</param>
/// <param name="Hosted">The hosted fine-tuning API's hyperparameters when the base model is hosted.</param>
public sealed record TrainInput(string Project, string RunId, string BaseModel, string DataPrefix, TrainingOptions Options, string? ChatTemplate,
    bool Relaunch = false, HostedTrainingOptions? Hosted = null);

/// <param name="BaseModel">The resolved store folder of the base model; the candidate is the run's own output.</param>
/// <param name="Relaunch">Start again although a job was recorded for the run (it was lost).</param>
public sealed record EvaluateInput(string Project, string RunId, string BaseModel, string DataPrefix, EvalOptions Options, string? ChatTemplate,
    bool Relaunch = false, WeightFormat Format = WeightFormat.Fp32);

/// <param name="NearDuplicateThreshold">Preparation's near-duplicate threshold: a suite question counts as trained on when it is
/// what dedup would call a near duplicate of a training question.</param>
public sealed record GateInput(string Project, string RunId, string DataPrefix, EvalOptions Eval, GateOptions Gate, string? ChatTemplate,
    double NearDuplicateThreshold);

/// <summary>The gate's verdict and the candidate's figures (for the registry); the full report is in reports/{runId}/.</summary>
public sealed record GatedCandidate(GateResult Gate, IReadOnlyDictionary<string, double> Metrics);

public sealed record DeployInput(
    string Project,
    string RunId,
    DateTimeOffset RunStartedUtc,
    string BaseModel,
    string DatasetVersion,
    IReadOnlyDictionary<string, double> Metrics,
    GateResult Gate,
    string Alias,
    string ChatTemplate,
    WeightFormat Format = WeightFormat.Fp32);

/// <summary>The project whose dashboard the run writes into reports/{RunId}/.</summary>
public sealed record DashboardInput(string Project, string RunId);

/// <param name="Alias">The alias now pointing at the version; null when it stayed on a newer run's version.</param>
public sealed record Deployment(string Version, string? Alias);

/// <summary>The external event a person raises to decide a manual gate.</summary>
public sealed record ApprovalDecision(bool Approved, string? By = null, string? Comment = null);
