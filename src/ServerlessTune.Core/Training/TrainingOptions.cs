using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServerlessTune.Core.Training;

public enum FineTuneMethod { Lora, Full }

public enum LrScheduleKind { Constant, Linear, Cosine }

public enum WeightPrecision { Fp32, Bf16 }

/// <summary>
/// Every hyperparameter of a fine-tuning run. The same names appear as CLI flags (--learning-rate) and
/// as snake_case keys of a JSON config file (learning_rate). Null means "use the default for the method",
/// so a config file and flags can be layered without one hiding the other.
/// Defaults suit real pretrained bases (LoRA r=16, alpha=32 on the attention projections, lr 2e-4;
/// full fine-tuning lr 2e-5), following common PEFT/TRL recipes.
/// </summary>
public sealed record TrainingOptions
{
    public FineTuneMethod? Method { get; init; }
    public int? Epochs { get; init; }
    public double? LearningRate { get; init; }
    public int? BatchSize { get; init; }
    public int? GradAccum { get; init; }
    /// <summary>Stops after this many optimizer steps, even mid-epoch; null = run all epochs.</summary>
    public int? MaxSteps { get; init; }
    public int? WarmupSteps { get; init; }
    public LrScheduleKind? LrSchedule { get; init; }
    public double? WeightDecay { get; init; }
    /// <summary>0 disables clipping.</summary>
    public double? MaxGradNorm { get; init; }
    public int? LoraRank { get; init; }
    public double? LoraAlpha { get; init; }
    public double? LoraDropout { get; init; }
    /// <summary>Module-name patterns: an entry matches a projection whose last name segment equals it,
    /// or whose full name ends with it (e.g. "q_proj", "self_attn.q_proj").</summary>
    public IReadOnlyList<string>? LoraTargets { get; init; }
    /// <summary>Optimizer steps between validation passes; 0 = only at the end.</summary>
    public int? EvalEvery { get; init; }
    /// <summary>Stop after this many validations without improvement; 0 = never stop early.</summary>
    public int? EarlyStoppingPatience { get; init; }
    /// <summary>Optimizer steps between checkpoints; 0 = only on interruption and at the end.</summary>
    public int? CheckpointEvery { get; init; }
    public int? Seed { get; init; }
    /// <summary>Longest rendered conversation in tokens; null = the model's context length.</summary>
    public int? MaxLength { get; init; }
    public WeightPrecision? Precision { get; init; }
    /// <summary>CPU threads for torch; null leaves torch's default.</summary>
    public int? Threads { get; init; }

    /// <summary>Values from <paramref name="overrides"/> win where they are set.</summary>
    public TrainingOptions With(TrainingOptions overrides) => new()
    {
        Method = overrides.Method ?? Method,
        Epochs = overrides.Epochs ?? Epochs,
        LearningRate = overrides.LearningRate ?? LearningRate,
        BatchSize = overrides.BatchSize ?? BatchSize,
        GradAccum = overrides.GradAccum ?? GradAccum,
        MaxSteps = overrides.MaxSteps ?? MaxSteps,
        WarmupSteps = overrides.WarmupSteps ?? WarmupSteps,
        LrSchedule = overrides.LrSchedule ?? LrSchedule,
        WeightDecay = overrides.WeightDecay ?? WeightDecay,
        MaxGradNorm = overrides.MaxGradNorm ?? MaxGradNorm,
        LoraRank = overrides.LoraRank ?? LoraRank,
        LoraAlpha = overrides.LoraAlpha ?? LoraAlpha,
        LoraDropout = overrides.LoraDropout ?? LoraDropout,
        LoraTargets = overrides.LoraTargets ?? LoraTargets,
        EvalEvery = overrides.EvalEvery ?? EvalEvery,
        EarlyStoppingPatience = overrides.EarlyStoppingPatience ?? EarlyStoppingPatience,
        CheckpointEvery = overrides.CheckpointEvery ?? CheckpointEvery,
        Seed = overrides.Seed ?? Seed,
        MaxLength = overrides.MaxLength ?? MaxLength,
        Precision = overrides.Precision ?? Precision,
        Threads = overrides.Threads ?? Threads,
    };

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    /// <summary>Reads a JSON config file; unknown keys and wrong types are errors naming the file.</summary>
    public static TrainingOptions Load(string path)
    {
        if (!File.Exists(path)) throw new UserInputException($"{path}: config file not found");
        return Parse(File.ReadAllText(path), path);
    }

    public static TrainingOptions Parse(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<TrainingOptions>(json, Json)
                   ?? throw new UserInputException($"{source}: config is null, expected an object");
        }
        catch (JsonException ex)
        {
            string where = ex.Path is { Length: > 1 } p ? $" at {p[2..]}" : "";
            throw new UserInputException($"{source}:{(ex.LineNumber ?? 0) + 1}: invalid training config{where}: {FirstSentence(ex.Message)}", ex);
        }
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    static string FirstSentence(string message)
    {
        int end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..end];
    }
}
