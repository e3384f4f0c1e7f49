namespace ServerlessTune.Core.Training;

/// <summary>
/// <see cref="TrainingOptions"/> with every default filled in and every value range-checked, so the
/// trainer never sees a half-specified run. Checks that need the model or data (target modules exist,
/// conversations fit the context, data not empty) happen in <see cref="FineTuneRecipe"/> before step 1.
/// </summary>
public sealed record ResolvedTrainingOptions(
    FineTuneMethod Method,
    int Epochs,
    double LearningRate,
    int BatchSize,
    int GradAccum,
    int? MaxSteps,
    int WarmupSteps,
    LrScheduleKind LrSchedule,
    double WeightDecay,
    double MaxGradNorm,
    int LoraRank,
    double LoraAlpha,
    double LoraDropout,
    IReadOnlyList<string> LoraTargets,
    int EvalEvery,
    int EarlyStoppingPatience,
    int CheckpointEvery,
    int Seed,
    int? MaxLength,
    WeightPrecision Precision,
    int? Threads)
{
    /// <summary>The attention projections PEFT's defaults target for each architecture.</summary>
    public static IReadOnlyList<string> DefaultLoraTargets(string modelType) => modelType switch
    {
        "gpt2" => ["c_attn"],
        "phi3" => ["qkv_proj"],
        _ => ["q_proj", "v_proj"],
    };

    public static ResolvedTrainingOptions Resolve(TrainingOptions o, string modelType)
    {
        var settings = Fill(o, modelType);
        settings.Validate(name => $"--{name} ");
        return settings;
    }

    /// <summary>
    /// The same range checks where a run starts (pipeline.json's train section), before the model is known, so a value
    /// that can never work fails with its key now instead of inside the training job minutes later.
    /// </summary>
    public static void Check(TrainingOptions o, string where) =>
        Fill(o, modelType: "").Validate(name => $"{where}.{name.Replace('-', '_')}: ");

    static ResolvedTrainingOptions Fill(TrainingOptions o, string modelType)
    {
        var method = o.Method ?? FineTuneMethod.Lora;
        bool lora = method == FineTuneMethod.Lora;
        int rank = o.LoraRank ?? 16;
        var settings = new ResolvedTrainingOptions(
            Method: method,
            Epochs: o.Epochs ?? 3,
            LearningRate: o.LearningRate ?? (lora ? 2e-4 : 2e-5),
            BatchSize: o.BatchSize ?? 4,
            GradAccum: o.GradAccum ?? 4,
            MaxSteps: o.MaxSteps,
            WarmupSteps: o.WarmupSteps ?? 10,
            LrSchedule: o.LrSchedule ?? LrScheduleKind.Cosine,
            WeightDecay: o.WeightDecay ?? (lora ? 0.0 : 0.01),
            MaxGradNorm: o.MaxGradNorm ?? 1.0,
            LoraRank: rank,
            LoraAlpha: o.LoraAlpha ?? 2.0 * rank,
            LoraDropout: o.LoraDropout ?? 0.05,
            LoraTargets: o.LoraTargets is { Count: > 0 } t ? t : DefaultLoraTargets(modelType),
            EvalEvery: o.EvalEvery ?? 50,
            EarlyStoppingPatience: o.EarlyStoppingPatience ?? 0,
            CheckpointEvery: o.CheckpointEvery ?? 100,
            Seed: o.Seed ?? 42,
            MaxLength: o.MaxLength,
            Precision: o.Precision ?? WeightPrecision.Fp32,
            Threads: o.Threads);
        return settings;
    }

    // Upper bounds far above any real run, so an absurd value (10^9 epochs, a batch of 10^9) is refused instead of
    // allocating or looping for days.
    const int MaxEpochs = 100_000, MaxBatch = 65_536, StepLimit = 100_000_000, MaxLengthTokens = 1_048_576, MaxRank = 65_536;

    void Validate(Func<string, string> key)
    {
        void Require(bool ok, string name, object? value, string reason)
        {
            if (!ok) throw new UserInputException($"{key(name)}{value}: {reason}");
        }

        Require(Epochs is >= 1 and <= MaxEpochs, "epochs", Epochs, $"must be from 1 to {MaxEpochs}");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), "learning-rate", LearningRate, "must be a positive number");
        Require(BatchSize is >= 1 and <= MaxBatch, "batch-size", BatchSize, $"must be from 1 to {MaxBatch}");
        Require(GradAccum is >= 1 and <= MaxBatch, "grad-accum", GradAccum, $"must be from 1 to {MaxBatch}");
        Require(MaxSteps is null or (>= 1 and <= StepLimit), "max-steps", MaxSteps, $"must be from 1 to {StepLimit}");
        Require(WarmupSteps >= 0, "warmup-steps", WarmupSteps, "must not be negative");
        Require(WeightDecay >= 0 && double.IsFinite(WeightDecay), "weight-decay", WeightDecay, "must not be negative");
        Require(MaxGradNorm >= 0 && double.IsFinite(MaxGradNorm), "max-grad-norm", MaxGradNorm, "must not be negative (0 disables clipping)");
        Require(EvalEvery >= 0, "eval-every", EvalEvery, "must not be negative (0 = only at the end)");
        Require(EarlyStoppingPatience >= 0, "early-stopping-patience", EarlyStoppingPatience, "must not be negative (0 disables it)");
        Require(CheckpointEvery >= 0, "checkpoint-every", CheckpointEvery, "must not be negative (0 = only at the end)");
        Require(MaxLength is null or (>= 2 and <= MaxLengthTokens), "max-length", MaxLength, $"must be from 2 to {MaxLengthTokens}");
        Require(Threads is null or >= 1, "threads", Threads, "must be at least 1");
        if (Method != FineTuneMethod.Lora) return;
        Require(LoraRank is >= 1 and <= MaxRank, "lora-rank", LoraRank, $"must be from 1 to {MaxRank}");
        Require(LoraAlpha > 0 && double.IsFinite(LoraAlpha), "lora-alpha", LoraAlpha, "must be positive");
        Require(LoraDropout is >= 0 and < 1, "lora-dropout", LoraDropout, "must be in [0, 1)");
        foreach (var target in LoraTargets)
            Require(!string.IsNullOrWhiteSpace(target), "lora-targets", target, "contains an empty name");
    }
}
