namespace ServerlessTune.Core.Evaluation;

public sealed record TrainingPoint(long Step, double? Loss, double? ValLoss);

/// <summary>
/// Loss curves from a trainer's metrics.jsonl: lines {"step": n, "loss": x, "val_loss": y, ...}. Lines
/// with neither loss nor val_loss are other events and are counted in <see cref="OtherLines"/>. A loss
/// may be the string "NaN" or "Infinity" (how a diverged run is written); charts leave such points out.
/// </summary>
public sealed record TrainingCurve(string Source, IReadOnlyList<TrainingPoint> Points, int OtherLines)
{
    public static TrainingCurve Load(string path)
    {
        using var reader = JsonRecords.OpenText(path);
        return Parse(reader, path);
    }

    public static TrainingCurve Parse(TextReader reader, string source)
    {
        var points = new List<TrainingPoint>();
        var other = 0;
        foreach (var record in JsonRecords.ReadLines(reader, source))
        {
            JsonFields.RequireObject(record.Value, record.Where);
            var loss = Loss(record, "loss");
            var valLoss = Loss(record, "val_loss");
            if (loss is null && valLoss is null)
            {
                other++;
                continue;
            }
            var step = JsonFields.OptionalNumber(record.Value, "step", record.Where)
                ?? throw new UserInputException($"{record.Where}: step: missing");
            if (step < 0 || step != Math.Floor(step))
                throw new UserInputException($"{record.Where}: step: expected a whole number >= 0, got {step}");
            points.Add(new TrainingPoint((long)step, loss, valLoss));
        }
        return new TrainingCurve(source, points, other);
    }

    static double? Loss(JsonRecord record, string key)
    {
        if (!record.Value.TryGetProperty(key, out var value) || value.ValueKind == System.Text.Json.JsonValueKind.Null)
            return null;
        if (value.ValueKind == System.Text.Json.JsonValueKind.String)
        {
            return value.GetString() switch
            {
                "NaN" => double.NaN,
                "Infinity" => double.PositiveInfinity,
                "-Infinity" => double.NegativeInfinity,
                var text => throw new UserInputException($"{record.Where}: {key}: expected a number, got \"{text}\""),
            };
        }
        if (value.ValueKind != System.Text.Json.JsonValueKind.Number)
            throw new UserInputException($"{record.Where}: {key}: expected a number, got {JsonFields.Describe(value)}");
        return value.GetDouble();
    }
}
