using System.Text.Json;

namespace ServerlessTune.Core.Data.Mapping;

/// <summary>
/// What the first records of a file show of its fields: their names in first-seen order, which hold one value in
/// every record, and, for list-valued keys, the keys and role names of their turns. The mapping is decided from it.
/// </summary>
public sealed class FieldSample
{
    /// <summary>Records looked at per file: enough that a column holding one value in all of them is surely constant.</summary>
    public const int MaxRecords = 1000;
    /// <summary>And at most this many bytes of them, so a file of huge records is not held back whole.</summary>
    public const long MaxBytes = 4 << 20;

    sealed class Field(string name)
    {
        public string Name { get; } = name;
        public string? First;
        public bool Same = true;
        public int SeenInRecord = -1;
        public bool List;
        public string? RoleKey, ContentKey;
        public readonly SortedSet<string> RoleValues = new(StringComparer.Ordinal);
    }

    readonly List<Field> _fields = [];
    readonly Dictionary<string, Field> _byName = new(StringComparer.Ordinal);

    public int Records { get; private set; }
    public IReadOnlyList<string> Names => _fields.Select(f => f.Name).ToList();

    /// <summary>Starts a record; <paramref name="names"/> are the fields a header row gives before any record.</summary>
    public FieldSample(IEnumerable<string>? names = null)
    {
        foreach (var name in names ?? []) FieldNamed(name);
    }

    /// <summary>One record's values by field name (null where the record lacks the field).</summary>
    public void Add(IEnumerable<(string Name, string? Value)> values)
    {
        int record = Records++;
        foreach (var (name, value) in values) See(FieldNamed(name), record, value);
        foreach (var field in _fields)
            if (field.SeenInRecord != record) See(field, record, null);
    }

    /// <summary>One JSON object: strings and numbers by their text, lists noted with the keys and roles of their turns.</summary>
    public void Add(JsonElement record)
    {
        Add(record.EnumerateObject().Select(p =>
        {
            if (p.Value.ValueKind == JsonValueKind.Array) NoteList(FieldNamed(p.Name), p.Value);
            return (p.Name, p.Value.ValueKind switch
            {
                JsonValueKind.String => p.Value.GetString(),
                JsonValueKind.Null => null,
                _ => p.Value.GetRawText(),
            });
        }).ToList());
    }

    public bool IsConstant(string name) => Records >= 2 && _byName.TryGetValue(name, out var f) && f.Same;

    public bool IsList(string name) => _byName.TryGetValue(name, out var f) && f.List;

    public (string? RoleKey, string? ContentKey, IReadOnlyCollection<string> Roles) Turns(string name)
    {
        var f = _byName[name];
        return (f.RoleKey, f.ContentKey, f.RoleValues);
    }

    Field FieldNamed(string name)
    {
        if (_byName.TryGetValue(name, out var field)) return field;
        field = new Field(name);
        _fields.Add(field);
        _byName[name] = field;
        return field;
    }

    static void See(Field field, int record, string? value)
    {
        field.SeenInRecord = record;
        if (record == 0) field.First = value;
        else if (field.Same && value != field.First) field.Same = false;
    }

    static void NoteList(Field field, JsonElement list)
    {
        field.List = true;
        foreach (var turn in list.EnumerateArray())
        {
            if (turn.ValueKind != JsonValueKind.Object) continue;
            field.RoleKey ??= FieldNames.RoleKeys.FirstOrDefault(k => turn.TryGetProperty(k, out _));
            field.ContentKey ??= FieldNames.ContentKeys.FirstOrDefault(k => turn.TryGetProperty(k, out _));
            if (field.RoleKey is { } key && turn.TryGetProperty(key, out var role) && role.ValueKind == JsonValueKind.String && field.RoleValues.Count < 16)
                field.RoleValues.Add(role.GetString()!);
        }
    }
}
