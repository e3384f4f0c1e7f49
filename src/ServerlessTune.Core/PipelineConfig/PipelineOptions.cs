using ServerlessTune.Core.Data;
using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Hosted;
using ServerlessTune.Core.Feedback;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Training;

namespace ServerlessTune.Core.PipelineConfig;

/// <summary>
/// A whole pipeline run as data (pipeline.json): what to train from, how to prepare, train, evaluate,
/// gate and deploy. Sections reuse the steps' own option types, so a key means the same here as in the
/// step's own config file or flag. Parsed once when a run starts; the orchestrator's input carries it and
/// hands each activity its section, so it must survive the durable serializer unchanged.
/// </summary>
public sealed record PipelineOptions
{
    /// <summary>Null when the file does not name one: the trigger (blob path, HTTP body, CLI) supplies it.</summary>
    public string? Project { get; init; }
    /// <summary>A store prefix, a local Hugging Face folder, a hub id or a hosted model (azure-openai:..., openai:...); null = a small model initialised offline.</summary>
    public string? BaseModel { get; init; }
    /// <summary>Tokenizer spec overriding the base model's own (see TokenizerLoader.Load).</summary>
    public string? Tokenizer { get; init; }
    /// <summary>Chat template name overriding the one in the base model's tokenizer_config.json.</summary>
    public string? ChatTemplate { get; init; }
    public PrepareOptions Prepare { get; init; } = new();
    public TrainingOptions Train { get; init; } = new();
    /// <summary>The train section when the base model is hosted (<see cref="HostedBaseModel"/>); null otherwise.</summary>
    public HostedTrainingOptions? HostedTrain { get; init; }
    public EvalOptions Eval { get; init; } = new();
    public GateOptions Gate { get; init; } = DefaultGate;
    public DeployOptions Deploy { get; init; } = new();
    public FeedbackOptions Feedback { get; init; } = new();

    /// <summary>Without rules of its own a candidate must at least not be worse than its base at modelling the validation split.</summary>
    public static readonly GateOptions DefaultGate = new(GateMode.Enforce,
        [new GateRule(MetricCatalog.Perplexity, GateOptions.DefaultModel, "<=", null, "base", 1, 0)]);

    /// <summary>A hosted candidate has no perplexity (chat completions return no prompt log-probabilities): it must at least answer the suite as well as its base.</summary>
    public static readonly GateOptions DefaultHostedGate = new(GateMode.Enforce,
        [new GateRule(MetricCatalog.F1, GateOptions.DefaultModel, ">=", null, "base", 1, 0)]);

    /// <summary>The alias Deploy moves: staging when the gate is only advisory, else the configured one.</summary>
    public string DeployAlias => Gate.Mode == GateMode.Advisory ? ModelRegistry.Staging : Deploy.Alias;

    /// <summary>
    /// Checks, where a run starts, that every dataset file the options name exists, so a misnamed suite fails with
    /// its key now instead of in the Evaluate step after training.
    /// </summary>
    /// <param name="exists">Whether a path relative to the dataset folder exists (a local folder or the store).</param>
    public async Task RequireReferencedFilesAsync(string source, Func<string, Task<bool>> exists)
    {
        foreach (var (key, path) in new[] { ("eval.suite", Eval.Suite), ("eval.dialogues", Eval.DialoguesFile) })
            if (path is not null && !await exists(path))
                throw new UserInputException($"{source}: {key}: {path}: not found in the dataset folder");
    }
}

/// <summary>
/// How the candidate is measured. File paths are relative to the project's dataset folder
/// (datasets/{project}/); evaluation files belong under its eval/ folder, which data preparation never trains on.
/// </summary>
public sealed record EvalOptions
{
    public const string LanguageModel = "language_model";
    public const string QuestionAnswering = "qa";
    public const string Dialogues = "dialogues";
    /// <summary>The run's feedback cases (served answers users rejected): a pipeline family, on by default when feedback.include.</summary>
    public const string Feedback = "feedback";
    public static readonly IReadOnlyList<string> AllFamilies = [LanguageModel, QuestionAnswering, Dialogues, Feedback];

    /// <summary>Evaluation suite (JSON/JSONL); null derives one from the validation split.</summary>
    public string? Suite { get; init; }
    /// <summary>Scripted multi-turn dialogues (JSON/JSONL of {id, system?, turns}); null plays none.</summary>
    public string? DialoguesFile { get; init; }
    /// <summary>Caps a suite derived from the validation split.</summary>
    public int? MaxCases { get; init; }
    public int MaxNewTokens { get; init; } = 64;
    public int BatchSize { get; init; } = 8;

    readonly IReadOnlyList<string>? _families;

    /// <summary>Metric families the evaluation job measures; by default every family that has its inputs.</summary>
    public IReadOnlyList<string> Families
    {
        get => _families ?? DefaultFamilies(hasDialogues: DialoguesFile is not null);
        init => _families = value;
    }

    /// <summary>Dialogues are played only when there is a dialogue file to play; the feedback family is added by the parser
    /// when the run reads feedback.</summary>
    public static IReadOnlyList<string> DefaultFamilies(bool hasDialogues) =>
        hasDialogues ? [LanguageModel, QuestionAnswering, Dialogues] : [LanguageModel, QuestionAnswering];
}

/// <param name="Alias">production (default) or staging.</param>
/// <param name="Format">How serving holds the weights (quantized at load from the trained weights); open models only.</param>
public sealed record DeployOptions(string Alias = ModelRegistry.Production, WeightFormat Format = WeightFormat.Fp32);
