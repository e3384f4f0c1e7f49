using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace ServerlessTune.Core.Training;

/// <summary>One line of metrics.jsonl: a training step (loss, lr, grad norm, throughput) or a validation pass.</summary>
public sealed record MetricRecord
{
    public required string Kind { get; init; }
    public required int Step { get; init; }
    /// <summary>Steps the run will take in all (train records), so a watcher can show progress.</summary>
    public int? TotalSteps { get; init; }
    public required double Epoch { get; init; }
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
    };
}

/// <summary>
/// Appends metrics.jsonl, flushing each line so a killed run keeps everything up to the kill. On resume,
/// lines after the checkpoint's step are dropped first: those steps are about to be recomputed, and the
/// finished file must read as if the run had never stopped.
/// </summary>
public sealed class MetricsWriter : IDisposable
{
    public const string FileName = "metrics.jsonl";
    readonly StreamWriter _writer;

    public MetricsWriter(string runDirectory, int? resumeFromStep)
    {
        string path = Path.Combine(runDirectory, FileName);
        var kept = resumeFromStep is { } step && File.Exists(path)
            ? File.ReadLines(path).Where(l => l.Length > 0 && StepOf(l) is { } s && s <= step).ToList()
            : [];
        _writer = new StreamWriter(path, append: false) { AutoFlush = true, NewLine = "\n" };
        foreach (var line in kept) _writer.WriteLine(line);
    }

    public void Write(MetricRecord record) =>
        _writer.WriteLine(JsonSerializer.Serialize(record, MetricRecord.Json));

    public static IReadOnlyList<MetricRecord> Read(string runDirectory) =>
        File.ReadLines(Path.Combine(runDirectory, FileName))
            .Where(l => l.Length > 0)
            .Select(l => JsonSerializer.Deserialize<MetricRecord>(l, MetricRecord.Json)!)
            .ToList();

    /// <summary>A killed writer can leave a torn last line; it has no step and is dropped.</summary>
    static int? StepOf(string line)
    {
        try { return JsonNode.Parse(line)?["step"]?.GetValue<int>(); }
        catch (JsonException) { return null; }
    }

    public void Dispose() => _writer.Dispose();
}
