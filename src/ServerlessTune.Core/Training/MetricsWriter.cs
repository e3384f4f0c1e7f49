using System.Text.Json;
using System.Text.Json.Serialization;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Training;

/// <summary>
/// One line of metrics.jsonl: a training step (loss, lr, grad norm, throughput) or a validation pass. The trainer
/// writes every field it knows; <see cref="MetricsFile"/> reads lines of other kinds too, so all are optional.
/// </summary>
public sealed record MetricRecord
{
    public string? Kind { get; init; }
    public int? Step { get; init; }
    /// <summary>Steps the run will take in all (train records), so a watcher can show progress.</summary>
    public int? TotalSteps { get; init; }
    public double? Epoch { get; init; }
    public double? Loss { get; init; }
    public double? LearningRate { get; init; }
    public double? GradNorm { get; init; }
    public double? ValLoss { get; init; }
    public double? ValPerplexity { get; init; }
    public long? Tokens { get; init; }
    /// <summary>Wall-clock figures: the only fields that differ between two runs with the same seed.</summary>
    public double? TokensPerSecond { get; init; }
    public double? ElapsedSeconds { get; init; }

    public const string TrainKind = "train";
    public const string EvalKind = "eval";

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // A diverged step's loss is NaN; it is written as "NaN", as MetricsFile reads it.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}

/// <summary>
/// Appends metrics.jsonl, flushing each line so a killed run keeps everything up to the kill. On resume,
/// lines after the checkpoint's step are dropped first: those steps are about to be recomputed, and the
/// finished file must read as if the run had never stopped.
/// </summary>
public sealed class MetricsWriter : IDisposable
{
    readonly StreamWriter _writer;

    public MetricsWriter(string runDirectory, int? resumeFromStep)
    {
        string path = Path.Combine(runDirectory, RunPaths.MetricsFile);
        var kept = resumeFromStep is { } step && File.Exists(path)
            ? MetricsFile.Read(path).Where(r => r.Step <= step).ToList()
            : [];
        _writer = new StreamWriter(path, append: false) { AutoFlush = true, NewLine = "\n" };
        foreach (var record in kept) Write(record);
    }

    public void Write(MetricRecord record) =>
        _writer.WriteLine(JsonSerializer.Serialize(record, MetricRecord.Json));

    public void Dispose() => _writer.Dispose();
}
