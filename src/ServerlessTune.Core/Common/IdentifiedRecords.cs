namespace ServerlessTune.Core.Evaluation;

/// <summary>A value keyed by its record's "id", with the line it came from.</summary>
public sealed record Identified<T>(string Id, int Line, T Value);

/// <summary>Reads JSONL files of {"id": ..., ...} records: ids are required, non-empty and unique.</summary>
public static class IdentifiedRecords
{
    public static List<Identified<T>> Read<T>(string path, Func<JsonRecord, T> valueOf)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var items = new List<Identified<T>>();
        foreach (var record in JsonRecords.ReadLines(path))
        {
            JsonFields.RequireObject(record.Value, record.Where);
            var id = JsonFields.RequiredString(record.Value, "id", record.Where);
            if (id.Length == 0)
                throw new UserInputException($"{record.Where}: id: empty");
            if (seen.TryGetValue(id, out var first))
                throw new UserInputException($"{record.Where}: id: duplicate id '{id}' (first seen on line {first})");
            seen[id] = record.Line;
            items.Add(new Identified<T>(id, record.Line, valueOf(record)));
        }
        return items;
    }

    /// <summary>{"id","prediction"} lines: a model's answer per case. Other keys are ignored.</summary>
    public static List<Identified<string>> ReadPredictions(string path) =>
        Read(path, r => JsonFields.RequiredString(r.Value, "prediction", r.Where));

    /// <summary>{"id","references":[...]} lines; [""] marks a question whose correct answer is empty. Other keys are ignored.</summary>
    public static List<Identified<IReadOnlyList<string>>> ReadReferences(string path) =>
        Read(path, r =>
        {
            var references = JsonFields.OptionalStrings(r.Value, "references", r.Where)
                ?? throw new UserInputException($"{r.Where}: references: missing");
            if (references.Count == 0)
                throw new UserInputException($"{r.Where}: references: empty (use [\"\"] when the expected answer is empty)");
            return references;
        });
}
