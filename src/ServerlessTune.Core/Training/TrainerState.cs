using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServerlessTune.Core.Training;

/// <summary>
/// Everything besides tensors that a resumed run needs to continue exactly where the interrupted one was:
/// the step, the data position (epoch, next micro-batch), torch's RNG state (LoRA dropout), early-stopping
/// bookkeeping and the running totals that metrics report.
/// </summary>
public sealed record TrainerState
{
    /// <summary>Optimizer steps completed.</summary>
    public required int Step { get; init; }
    public required int Epoch { get; init; }
    /// <summary>The next micro-batch to read in <see cref="Epoch"/>.</summary>
    public required int BatchInEpoch { get; init; }
    /// <summary>torch's default CPU generator state, base64.</summary>
    public required string RngState { get; init; }
    public double? BestValLoss { get; init; }
    public int? BestStep { get; init; }
    public int EvalsWithoutImprovement { get; init; }
    /// <summary>The latest losses, so a resumed run neither repeats a validation nor loses them from its result.</summary>
    public int? LastEvalStep { get; init; }
    public double? LastValLoss { get; init; }
    public double? LastTrainLoss { get; init; }
    public long TokensSeen { get; init; }
    public double ElapsedSeconds { get; init; }
    /// <summary>The settings the run started with; resume refuses a different configuration.</summary>
    public required string SettingsFingerprint { get; init; }

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };
}
