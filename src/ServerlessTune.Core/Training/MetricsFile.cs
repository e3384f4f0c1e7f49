using System.Text.Json;
using ServerlessTune.Core.Common;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Training;

/// <summary>
/// The one reader of metrics.jsonl: the trainer's resume, the report's loss curves and the pipeline's progress
/// see the same records. The trainer appends to the file while others read it (and a killed trainer can leave a
/// torn last line), so a last line that is not yet JSON is skipped; any other bad line is an error naming its
/// line and key. A loss may be "NaN" or "Infinity", which is how a diverged run is written.
/// </summary>
public static class MetricsFile
{
    public static IReadOnlyList<MetricRecord> Read(string path)
    {
        using var reader = JsonRecords.OpenText(path);
        return Read(reader, path);
    }

    public static IReadOnlyList<MetricRecord> Read(TextReader reader, string source) =>
        JsonRecords.ReadLines(reader, source, lastLineMayBeTorn: true).Select(Parse).ToList();

    /// <summary>The run's metrics in a store; none when the trainer has not written any yet.</summary>
    public static async Task<IReadOnlyList<MetricRecord>> ReadAsync(IArtifactStore store, string path, CancellationToken ct = default) =>
        await store.ExistsAsync(path, ct) ? Read(new StringReader(await store.ReadAllTextAsync(path, ct)), path) : [];

    static MetricRecord Parse(LocatedJson line)
    {
        JsonFields.RequireObject(line.Value, line.Where);
        var record = new MetricRecord
        {
            Kind = JsonFields.OptionalString(line.Value, "kind", line.Where),
            Step = (int?)WholeNumber(line, "step", int.MaxValue),
            TotalSteps = (int?)WholeNumber(line, "total_steps", int.MaxValue),
            Epoch = Number(line, "epoch"),
            Loss = Number(line, "loss"),
            LearningRate = Number(line, "learning_rate"),
            GradNorm = Number(line, "grad_norm"),
            ValLoss = Number(line, "val_loss"),
            ValPerplexity = Number(line, "val_perplexity"),
            Tokens = WholeNumber(line, "tokens", long.MaxValue),
            TokensPerSecond = Number(line, "tokens_per_second"),
            ElapsedSeconds = Number(line, "elapsed_seconds"),
        };
        if (record.Step is null && (record.Loss is not null || record.ValLoss is not null))
            throw new UserInputException($"{line.Where}: step: missing");
        return record;
    }

    static long? WholeNumber(LocatedJson line, string key, long max)
    {
        double? value = JsonFields.OptionalNumber(line.Value, key, line.Where);
        if (value is null) return null;
        if (value < 0 || value != Math.Floor(value.Value) || value > max)
            throw new UserInputException($"{line.Where}: {key}: expected a whole number >= 0, got {value}");
        return (long)value;
    }

    static double? Number(LocatedJson line, string key)
    {
        if (!line.Value.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString() switch
            {
                "NaN" => double.NaN,
                "Infinity" => double.PositiveInfinity,
                "-Infinity" => double.NegativeInfinity,
                var text => throw new UserInputException($"{line.Where}: {key}: expected a number, got \"{text}\""),
            };
        }
        if (value.ValueKind != JsonValueKind.Number)
            throw new UserInputException($"{line.Where}: {key}: expected a number, got {JsonFields.Describe(value)}");
        return value.GetDouble();
    }
}
