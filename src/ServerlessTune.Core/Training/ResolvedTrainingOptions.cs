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
        settings.Validate();
        return settings;
    }

    void Validate()
    {
        Require(Epochs >= 1, "epochs", Epochs, "must be at least 1");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), "learning-rate", LearningRate, "must be a positive number");
        Require(BatchSize >= 1, "batch-size", BatchSize, "must be at least 1");
        Require(GradAccum >= 1, "grad-accum", GradAccum, "must be at least 1");
        Require(MaxSteps is null or >= 1, "max-steps", MaxSteps, "must be at least 1");
        Require(WarmupSteps >= 0, "warmup-steps", WarmupSteps, "must not be negative");
        Require(WeightDecay >= 0 && double.IsFinite(WeightDecay), "weight-decay", WeightDecay, "must not be negative");
        Require(MaxGradNorm >= 0 && double.IsFinite(MaxGradNorm), "max-grad-norm", MaxGradNorm, "must not be negative (0 disables clipping)");
        Require(EvalEvery >= 0, "eval-every", EvalEvery, "must not be negative (0 = only at the end)");
        Require(EarlyStoppingPatience >= 0, "early-stopping-patience", EarlyStoppingPatience, "must not be negative (0 disables it)");
        Require(CheckpointEvery >= 0, "checkpoint-every", CheckpointEvery, "must not be negative (0 = only at the end)");
        Require(MaxLength is null or >= 2, "max-length", MaxLength, "must be at least 2");
        Require(Threads is null or >= 1, "threads", Threads, "must be at least 1");
        if (Method != FineTuneMethod.Lora) return;
        Require(LoraRank >= 1, "lora-rank", LoraRank, "must be at least 1");
        Require(LoraAlpha > 0 && double.IsFinite(LoraAlpha), "lora-alpha", LoraAlpha, "must be positive");
        Require(LoraDropout is >= 0 and < 1, "lora-dropout", LoraDropout, "must be in [0, 1)");
        foreach (var target in LoraTargets)
            Require(!string.IsNullOrWhiteSpace(target), "lora-targets", target, "contains an empty name");
    }

    static void Require(bool ok, string name, object? value, string reason)
    {
        if (!ok) throw new UserInputException($"--{name} {value}: {reason}");
    }
}
