using System.Globalization;

namespace ServerlessTune.Core.Storage;

/// <summary>
/// Where every artifact lives in a store, in one place: no other code builds "runs/{id}/..." by hand.
/// Names are validated when a path is made, so a project or run id can never address another folder.
/// The names inside a prepared-data folder and a run folder are also what `stune prepare --out` and
/// `stune train --out` write locally, so a local folder and its store copy have the same shape.
/// </summary>
public static class ArtifactLayout
{
    /// <summary>datasets/{project}/: the raw files a user drops, an optional pipeline.json and an eval/ folder data preparation skips.</summary>
    public static DatasetPaths Dataset(string project) => new(project);

    /// <summary>prepared/{runId}/: the PrepareData step's output.</summary>
    public static PreparedPaths Prepared(string runId) => new(runId);

    /// <summary>runs/{runId}/: the jobs of a run, the trainer's output and the evaluation's results.</summary>
    public static RunPaths Run(string runId) => new(runId);

    /// <summary>reports/{runId}/: the evaluation report the Gate step writes.</summary>
    public static ReportPaths Report(string runId) => new(runId);

    /// <summary>registry/{project}/: the versions Deploy registers and the aliases it moves.</summary>
    public static RegistryPaths Registry(string project) => new(project);

    /// <summary>datasets/: every project's dataset folder, for listing the projects.</summary>
    public const string Datasets = "datasets/";

    /// <summary>registry/: every project's registry folder, for listing the projects.</summary>
    public const string Registries = "registry/";
    /// <summary>projects/{project}/active-run.json: the run that holds the project (one run at a time per project).</summary>
    public static string ActiveRun(string project) => $"projects/{ArtifactPath.ValidateName(project, "project")}/active-run.json";

    /// <summary>projects/{project}/feedback-cutoff.json: when the project's last run read the feedback log (ratings after it are new).</summary>
    public static string FeedbackCutoff(string project) => $"projects/{ArtifactPath.ValidateName(project, "project")}/feedback-cutoff.json";

    /// <summary>projects/{project}/uploads/{key}.json: the run an upload of the dataset started (one upload starts one run).</summary>
    public static string Upload(string project, string key) =>
        $"projects/{ArtifactPath.ValidateName(project, "project")}/uploads/{ArtifactPath.ValidateName(key, "upload key")}.json";

    public const string ConversationLogs = "conversations";
    public const string FeedbackLogs = "feedback";

    /// <summary>conversations/{project}/{yyyy-mm-dd}/: served conversations, one folder per day.</summary>
    public static DailyLogPaths Conversations(string project) => new(ConversationLogs, project);

    /// <summary>feedback/{project}/{yyyy-mm-dd}/: users' ratings and corrections, one folder per day.</summary>
    public static DailyLogPaths Feedback(string project) => new(FeedbackLogs, project);

    /// <summary>models/init/{name}: a randomly initialised base model.</summary>
    public static string InitModel(string name) => ArtifactPath.Combine("models", "init", ArtifactPath.ValidateName(name, "model name"));

    /// <summary>models/local/{name}: a copy of a local model folder.</summary>
    public static string LocalModel(string name) => ArtifactPath.Combine("models", "local", ArtifactPath.ValidateName(name, "model name"));

    /// <summary>models/hub/{org}/{name}/{revision}: a download from a model hub.</summary>
    public static string HubModel(string repository, string revision) =>
        ArtifactPath.Combine("models", "hub", repository, ArtifactPath.ValidateName(revision, "revision"));
}

public sealed record DatasetPaths
{
    public const string ConfigFile = "pipeline.json";
    /// <summary>An empty blob a user uploads last, after the data files, to start a run without a pipeline.json.</summary>
    public const string ReadyMarker = "_ready";

    internal DatasetPaths(string project) => Project = ArtifactPath.ValidateName(project, "project");

    public string Project { get; }
    public string Folder => $"datasets/{Project}";
    /// <summary>The folder with a trailing '/', for listing.</summary>
    public string Prefix => Folder + "/";
    public string Config => File(ConfigFile);

    /// <summary>A file of the dataset by its path relative to the dataset folder (e.g. "eval/suite.jsonl").</summary>
    public string File(string relative) => ArtifactPath.Combine(Folder, relative);
}

public sealed record PreparedPaths
{
    public const string TrainFile = "train.jsonl";
    public const string ValidationFile = "validation.jsonl";
    public const string RejectsFile = "rejects.jsonl";
    public const string StatsFile = "stats.json";
    public const string ManifestFile = "manifest.json";
    public const string FeedbackChatsFile = "feedback_chats.jsonl";
    public const string FeedbackCasesFile = "feedback_cases.jsonl";

    internal PreparedPaths(string runId) => RunId = ArtifactPath.ValidateName(runId, "run id");

    public string RunId { get; }
    public string Folder => $"prepared/{RunId}";
    public string Prefix => Folder + "/";
    public string Train => $"{Folder}/{TrainFile}";
    public string Validation => $"{Folder}/{ValidationFile}";
    public string Rejects => $"{Folder}/{RejectsFile}";
    /// <summary>Chats made from rated and corrected served answers: one more input of data preparation.</summary>
    public string FeedbackChats => $"{Folder}/{FeedbackChatsFile}";
    /// <summary>Served answers users rejected, as evaluation cases: rated down without a correction (never trained on) and corrected.</summary>
    public string FeedbackCases => $"{Folder}/{FeedbackCasesFile}";
}

public sealed record RunPaths
{
    public const string MetricsFile = "metrics.jsonl";
    public const string CheckpointsFolder = "checkpoints";
    public const string CheckpointPrefix = "step-";
    /// <summary>The LoRA adapter in the PEFT layout.</summary>
    public const string AdapterFolder = "adapter";
    /// <summary>A complete Hugging Face checkpoint: full fine-tuning, or the adapter folded into its base.</summary>
    public const string MergedFolder = "merged";
    /// <summary>The resolved training options the run used.</summary>
    public const string SettingsFile = "training_settings.json";
    /// <summary>What an embedded run was started with (`stune run --resume` reads it).</summary>
    public const string RecordFile = "run.json";

    internal RunPaths(string runId) => RunId = ArtifactPath.ValidateName(runId, "run id");

    public string RunId { get; }
    public string Folder => $"runs/{RunId}";
    public string Metrics => $"{Folder}/{MetricsFile}";
    public string Checkpoints => $"{Folder}/{CheckpointsFolder}";
    public string Checkpoint(int step) => $"{Checkpoints}/{CheckpointPrefix}{step}";
    public string Adapter => $"{Folder}/{AdapterFolder}";
    public string Merged => $"{Folder}/{MergedFolder}";
    public string Settings => $"{Folder}/{SettingsFile}";
    public string Record => $"{Folder}/{RecordFile}";

    /// <summary>runs/{runId}/eval/{family}.json: one metric family's outputs, written by the evaluation job.</summary>
    public string Evaluation(string family) => $"{Folder}/eval/{ArtifactPath.ValidateName(family, "evaluation family")}.json";

    /// <summary>runs/{runId}/jobs/{name}/: what one job of the run was asked, where it runs, and its last word.</summary>
    public JobPaths Job(string name) => new($"{Folder}/jobs/{ArtifactPath.ValidateName(name, "job name")}");
}

public sealed record JobPaths
{
    internal JobPaths(string folder) => Folder = folder;

    public string Folder { get; }
    /// <summary>The job spec the launcher hands to the job container.</summary>
    public string Spec => $"{Folder}/spec.json";
    /// <summary>The launcher's handle, so a retried start finds the job it started.</summary>
    public string Execution => $"{Folder}/execution.json";
    /// <summary>The job's own final word: succeeded, failed (and why) or interrupted.</summary>
    public string Status => $"{Folder}/status.json";
    /// <summary>A hosted fine-tuning job's record: the files uploaded, the service's job id, events seen, checkpoints, the model.</summary>
    public string Hosted => $"{Folder}/hosted.json";
    /// <summary>A file exactly as it was uploaded to a hosted fine-tuning service (train.jsonl, validation.jsonl).</summary>
    public string Upload(string name) => $"{Folder}/upload/{ArtifactPath.ValidateName(name, "upload file")}";
}

public sealed record ReportPaths
{
    public const string JsonFile = "report.json";
    public const string MarkdownFile = "report.md";
    public const string HtmlFile = "report.html";
    /// <summary>The monitoring dashboard (the page `stune monitor --html` writes), as it stood when the run deployed.</summary>
    public const string DashboardFile = "dashboard.html";

    internal ReportPaths(string runId) => RunId = ArtifactPath.ValidateName(runId, "run id");

    public string RunId { get; }
    public string Folder => $"reports/{RunId}";
    public string File(string name) => $"{Folder}/{name}";
    public string Json => File(JsonFile);
    public string Markdown => File(MarkdownFile);
    public string Html => File(HtmlFile);
    public string Dashboard => File(DashboardFile);
}

public sealed record RegistryPaths
{
    public const string ModelFile = "model.json";
    public const string AliasesFile = "aliases.json";

    internal RegistryPaths(string project) => Project = ArtifactPath.ValidateName(project, "project");

    public string Project { get; }
    public string Folder => $"{ArtifactLayout.Registries}{Project}";
    /// <summary>The prefix below which every version's folder lies, for listing.</summary>
    public string Versions => $"{Folder}/versions/";
    public string Version(string version) => $"{Versions}{ArtifactPath.ValidateName(version, "version")}/{ModelFile}";

    /// <summary>The version whose model file this listed path is ({Versions}{version}/model.json), else null.</summary>
    public string? VersionOf(string path) =>
        path.StartsWith(Versions, StringComparison.Ordinal) && path[Versions.Length..].Split('/') is [var version, ModelFile] ? version : null;
    public string Aliases => $"{Folder}/{AliasesFile}";

    /// <summary>The project whose aliases file this listed path is (registry/{project}/aliases.json), else null.</summary>
    public static string? ProjectOfAliases(string path) =>
        path.StartsWith(ArtifactLayout.Registries, StringComparison.Ordinal) && path[ArtifactLayout.Registries.Length..].Split('/') is [var project, AliasesFile]
            ? project
            : null;
}

/// <summary>
/// An append-only log as one folder per UTC day. Each writer (a server instance) adds numbered batch files of its own
/// ({writer}-{sequence}.jsonl) and never rewrites one, so concurrent writers never touch each other's files.
/// </summary>
public sealed record DailyLogPaths
{
    internal DailyLogPaths(string root, string project)
    {
        Root = root;
        Project = ArtifactPath.ValidateName(project, "project");
    }

    public string Root { get; }
    public string Project { get; }
    public string Folder => $"{Root}/{Project}";
    /// <summary>The folder with a trailing '/', for listing.</summary>
    public string Prefix => Folder + "/";
    public string Day(DateOnly day) => $"{Folder}/{day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}";
    public string Batch(DateOnly day, string writer, long sequence) =>
        $"{Day(day)}/{ArtifactPath.ValidateName(writer, "log writer")}-{sequence.ToString("D8", CultureInfo.InvariantCulture)}.jsonl";

    /// <summary>The day of a listed path below this log (its yyyy-mm-dd folder), else null.</summary>
    public DateOnly? DayOf(string path) =>
        path.StartsWith(Prefix, StringComparison.Ordinal) && path[Prefix.Length..].Split('/') is [var day, _]
        && DateOnly.TryParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
            ? d
            : null;
}
