using ServerlessTune.Core.Training;

namespace ServerlessTune.Core.Evaluation;

public sealed record TrainingPoint(long Step, double? Loss, double? ValLoss);

/// <summary>
/// Loss curves from a trainer's metrics.jsonl (read by <see cref="MetricsFile"/>). Lines with neither loss nor
/// val_loss are other events and are counted in <see cref="OtherLines"/>; charts leave non-finite losses out.
/// </summary>
public sealed record TrainingCurve(string Source, IReadOnlyList<TrainingPoint> Points, int OtherLines)
{
    public static TrainingCurve Load(string path) => From(MetricsFile.Read(path), path);

    public static TrainingCurve Parse(TextReader reader, string source) => From(MetricsFile.Read(reader, source), source);

    public static TrainingCurve From(IReadOnlyList<MetricRecord> records, string source)
    {
        var points = records.Where(r => r.Loss is not null || r.ValLoss is not null)
            .Select(r => new TrainingPoint(r.Step!.Value, r.Loss, r.ValLoss))
            .ToList();
        return new TrainingCurve(source, points, records.Count - points.Count);
    }
}
