namespace ServerlessTune.Core.Common;

/// <summary>A value keyed by its record's "id", with the line it came from.</summary>
public sealed record Identified<T>(string Id, int Line, T Value);

/// <summary>Records of {"id": ..., ...} objects: ids are required, non-empty and unique (a repeat names both lines).</summary>
public static class IdentifiedRecords
{
    /// <param name="keys">The keys a record may have; null allows any.</param>
    /// <param name="emptyMessage">When given, a list without records is refused with it.</param>
    public static List<Identified<T>> Parse<T>(IReadOnlyList<LocatedJson> records, Func<LocatedJson, string, T> parse,
        string[]? keys = null, string? emptyMessage = null)
    {
        var lineById = new Dictionary<string, int>(StringComparer.Ordinal);
        var items = new List<Identified<T>>();
        foreach (var record in records)
        {
            JsonFields.RequireObject(record.Value, record.Where);
            if (keys is not null) JsonFields.RejectUnknownKeys(record.Value, record.Where, keys);
            var id = JsonFields.RequiredString(record.Value, "id", record.Where);
            if (string.IsNullOrWhiteSpace(id))
                throw new UserInputException($"{record.Where}: id: empty");
            if (lineById.TryGetValue(id, out var first))
                throw new UserInputException($"{record.Where}: id: duplicate id '{id}' (first seen on line {first})");
            lineById[id] = record.Line;
            items.Add(new Identified<T>(id, record.Line, parse(record, id)));
        }
        if (items.Count == 0 && emptyMessage is not null) throw new UserInputException(emptyMessage);
        return items;
    }

    /// <summary>A JSONL file of identified records; keys other than "id" are the caller's to read.</summary>
    public static List<Identified<T>> Read<T>(string path, Func<LocatedJson, T> valueOf) =>
        Parse(JsonRecords.ReadLines(path), (record, _) => valueOf(record));
}
