using System.Globalization;
using ServerlessTune.Core.Feedback;
using ServerlessTune.Core.Generation;
using ServerlessTune.Core.PipelineConfig;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Modeling;

namespace ServerlessTune.Core.Evaluation;

/// <summary>
/// A model taking part in an evaluation: its role (base, candidate, production), its Hugging Face folder,
/// optionally a PEFT adapter folder applied on top, and the source the report names (a path or a registry alias).
/// </summary>
/// <param name="Format">How the weights are held while measured (the format the model is, or would be, served in).</param>
public sealed record EvaluatedModel(string Name, string ModelDirectory, string? AdapterDirectory = null, string? Source = null,
    WeightFormat Format = WeightFormat.Fp32)
{
    public string DisplaySource => (Source ?? (AdapterDirectory is null ? ModelDirectory : $"{ModelDirectory} + adapter {AdapterDirectory}"))
        + (Format == WeightFormat.Fp32 ? "" : $" ({Format.Name()})");
}

/// <summary>
/// What every model is measured on, and how: the same inputs and decoding settings for each model, so the
/// comparison is fair. Families: <see cref="EvalOptions.LanguageModel"/> over the validation split,
/// <see cref="EvalOptions.QuestionAnswering"/> over the suite (derived from the validation split when no
/// suite file is given), <see cref="EvalOptions.Dialogues"/> when a dialogue file is given, <see cref="EvalOptions.Feedback"/>
/// over a pipeline run's feedback cases (none when the run had no rejected answers).
/// </summary>
public sealed record EvaluationPlan
{
    /// <summary>A prepared validation.jsonl.</summary>
    public required string ValidationFile { get; init; }
    public string? SuiteFile { get; init; }
    public string? DialoguesFile { get; init; }
    /// <summary>Caps a suite derived from the validation split (first N cases); ignored with a suite file.</summary>
    public int? MaxDerivedCases { get; init; }
    /// <summary>Conversations per forward pass (language modelling) and prompts per generation batch (suite).</summary>
    public int BatchSize { get; init; } = 8;
    /// <summary>Greedy (temperature 0) by default, so answers are reproducible.</summary>
    public GenerationOptions Decoding { get; init; } = new() { MaxNewTokens = 64 };
    /// <summary>A chat template name overriding the one each model folder's tokenizer_config.json implies.</summary>
    public string? ChatTemplate { get; init; }
    /// <summary>The prepared train.jsonl: when given, the report says which cases' questions were trained on (<see cref="ContaminationCheck"/>).</summary>
    public string? TrainFile { get; init; }
    /// <summary>Near-duplicate similarity for contamination and for "the same answer as the rejected one": data preparation's
    /// threshold, so "seen" and "the same" mean what dedup means.</summary>
    public double ContaminationThreshold { get; init; } = 0.8;
    /// <summary>The prepared feedback_cases.jsonl; null when the run has none (the feedback family then has no cases).</summary>
    public string? FeedbackCasesFile { get; init; }

    /// <summary>
    /// A pipeline run's plan: its prepared validation split and the project's eval files, fetched from the store.
    /// The Evaluate step (to validate before a job starts), the evaluation job and the Gate step all build it here.
    /// </summary>
    public static async Task<EvaluationPlan> FromStoreAsync(LocalArtifacts local, string project, string dataPrefix, EvalOptions eval,
        string? chatTemplate, CancellationToken ct = default)
    {
        var dataset = ArtifactLayout.Dataset(project);
        return new EvaluationPlan
        {
            ValidationFile = await local.FileAsync(ArtifactPath.Combine(dataPrefix, PreparedPaths.ValidationFile), ct),
            SuiteFile = eval.Suite is null ? null : await local.FileAsync(dataset.File(eval.Suite), ct),
            DialoguesFile = eval.DialoguesFile is null ? null : await local.FileAsync(dataset.File(eval.DialoguesFile), ct),
            FeedbackCasesFile = eval.Families.Contains(EvalOptions.Feedback)
                ? await local.OptionalFileAsync(ArtifactPath.Combine(dataPrefix, PreparedPaths.FeedbackCasesFile), ct)
                : null,
            MaxDerivedCases = eval.MaxCases,
            BatchSize = eval.BatchSize,
            Decoding = new() { MaxNewTokens = eval.MaxNewTokens },
            ChatTemplate = chatTemplate,
        };
    }

    /// <summary>Every family this plan has inputs for.</summary>
    public IReadOnlyList<string> Families() => EvalOptions.DefaultFamilies(hasDialogues: DialoguesFile is not null);

    /// <summary>
    /// Throws UserInputException naming the first bad setting, missing file or bad suite/dialogue record:
    /// everything is read before any model is loaded, so a typo costs seconds, not a model run.
    /// </summary>
    public void Validate()
    {
        if (BatchSize < 1) throw new UserInputException($"batch size must be at least 1 (got {BatchSize})");
        if (MaxDerivedCases is < 1) throw new UserInputException($"max cases must be at least 1 (got {MaxDerivedCases})");
        Decoding.Validate();
        foreach (var file in new[] { ValidationFile, SuiteFile, DialoguesFile, TrainFile, FeedbackCasesFile })
            if (file is not null && !File.Exists(file))
                throw new UserInputException($"{file}: file not found");
        LoadSuite();
        if (DialoguesFile is not null) DialogueScript.Load(DialoguesFile);
        LoadFeedback();
    }

    public EvalSuite LoadSuite() =>
        SuiteFile is not null ? EvalSuite.Load(SuiteFile) : ValidationSuite.Derive(ValidationFile, MaxDerivedCases).Suite;

    public FeedbackSuite LoadFeedback() => FeedbackCasesFile is null
        ? new FeedbackSuite(PreparedPaths.FeedbackCasesFile, [], ContaminationThreshold)
        : new FeedbackSuite(FeedbackCasesFile, FeedbackCaseFile.Load(FeedbackCasesFile), ContaminationThreshold);

    /// <summary>
    /// The fan-in: merges every family's output and measures them into one report. It runs no model, so the
    /// Gate step runs it where there is no libtorch.
    /// </summary>
    public EvaluationReport Report(string runId, IEnumerable<FamilyOutput> outputs, string candidate, EvaluationOptions options,
        GateOptions? gate = null, TrainingCurve? training = null)
    {
        var models = FamilyOutput.Merge(outputs);
        var suite = models.Any(m => m.Answers is not null) ? LoadSuite() : null;
        var contamination = TrainFile is null ? null : ContaminationCheck.Measure(TrainFile, suite,
            DialoguesFile is null ? null : DialogueScript.Load(DialoguesFile), ContaminationThreshold);
        var settings = new Dictionary<string, string>(options.Settings);
        foreach (var (key, value) in ReportSettings())
            settings[key] = value;
        var feedback = models.Any(m => m.FeedbackAnswers is not null) ? LoadFeedback() : null;
        return new EvaluationService(options with { Settings = settings }).Evaluate(runId, suite, models, candidate, gate, training, contamination, feedback);
    }

    /// <summary>The settings every model was run with, as the report shows them.</summary>
    public IReadOnlyDictionary<string, string> ReportSettings()
    {
        static string Text(double value) => value.ToString(CultureInfo.InvariantCulture);
        var settings = new Dictionary<string, string>
        {
            ["decoding"] = Decoding.IsGreedy ? "greedy" : "sampling",
            ["max_new_tokens"] = Decoding.MaxNewTokens.ToString(CultureInfo.InvariantCulture),
            ["batch_size"] = BatchSize.ToString(CultureInfo.InvariantCulture),
            ["suite"] = SuiteFile ?? $"derived from {ValidationFile}",
        };
        if (!Decoding.IsGreedy)
        {
            settings["temperature"] = Text(Decoding.Temperature);
            settings["top_p"] = Text(Decoding.TopP);
            settings["top_k"] = Decoding.TopK.ToString(CultureInfo.InvariantCulture);
            settings["seed"] = Decoding.Seed.ToString(CultureInfo.InvariantCulture);
        }
        if (Decoding.RepetitionPenalty != 1) settings["repetition_penalty"] = Text(Decoding.RepetitionPenalty);
        if (ChatTemplate is not null) settings["chat_template"] = ChatTemplate;
        return settings;
    }
}
