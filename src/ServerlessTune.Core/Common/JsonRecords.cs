using System.Text;
using System.Text.Json;

namespace ServerlessTune.Core.Evaluation;

/// <summary>One JSON value read from a file, with the 1-based line where it starts (for error messages).</summary>
public readonly record struct JsonRecord(string Source, int Line, JsonElement Value)
{
    public string Where => $"{Source}:{Line}";
}

/// <summary>Reads JSONL (one value per non-blank line) or a JSON array, keeping each value's line.</summary>
public static class JsonRecords
{
    public static List<JsonRecord> ReadLines(string path)
    {
        using var reader = OpenText(path);
        return ReadLines(reader, path);
    }

    public static List<JsonRecord> ReadLines(TextReader reader, string source)
    {
        var records = new List<JsonRecord>();
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            try
            {
                using var document = JsonDocument.Parse(line);
                records.Add(new JsonRecord(source, lineNumber, document.RootElement.Clone()));
            }
            catch (JsonException ex)
            {
                throw new UserInputException($"{source}:{lineNumber}: invalid JSON: {Reason(ex)}", ex);
            }
        }
        return records;
    }

    /// <summary>A JSON array of values when the text starts with '[', otherwise JSONL.</summary>
    public static List<JsonRecord> ReadArrayOrLines(string path)
    {
        using var reader = OpenText(path);
        return ReadArrayOrLines(reader, path);
    }

    public static List<JsonRecord> ReadArrayOrLines(TextReader reader, string source)
    {
        var text = reader.ReadToEnd();
        return text.TrimStart().StartsWith('[') ? ReadArray(text, source) : ReadLines(new StringReader(text), source);
    }

    static List<JsonRecord> ReadArray(string text, string source)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var records = new List<JsonRecord>();
        var reader = new Utf8JsonReader(bytes);
        try
        {
            reader.Read();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var line = LineAt(bytes, reader.TokenStartIndex);
                using var document = JsonDocument.ParseValue(ref reader);
                records.Add(new JsonRecord(source, line, document.RootElement.Clone()));
            }
            // The reader rejects anything but whitespace after the array.
            reader.Read();
        }
        catch (JsonException ex)
        {
            throw new UserInputException($"{source}:{(ex.LineNumber ?? 0) + 1}: invalid JSON: {Reason(ex)}", ex);
        }
        return records;
    }

    /// <summary>Opens a UTF-8 text file (BOM skipped); an unreadable file is a user error naming it.</summary>
    /// <summary>
    /// Parses records that are objects with only <paramref name="keys"/> and a non-empty "id" seen nowhere
    /// before (a repeat names both lines); a file without records is refused with <paramref name="emptyMessage"/>.
    /// </summary>
    public static List<T> ParseIdentified<T>(IReadOnlyList<JsonRecord> records, string[] keys, Func<JsonRecord, string, T> parse, string emptyMessage)
    {
        var items = new List<T>();
        var lineById = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            JsonFields.RequireObject(record.Value, record.Where);
            JsonFields.RejectUnknownKeys(record.Value, record.Where, keys);
            var id = JsonFields.RequiredString(record.Value, "id", record.Where);
            if (string.IsNullOrWhiteSpace(id))
                throw new UserInputException($"{record.Where}: id: empty");
            var item = parse(record, id);
            if (lineById.TryGetValue(id, out var first))
                throw new UserInputException($"{record.Where}: id: duplicate id '{id}' (first seen on line {first})");
            lineById[id] = record.Line;
            items.Add(item);
        }
        if (items.Count == 0) throw new UserInputException(emptyMessage);
        return items;
    }

    public static StreamReader OpenText(string path)
    {
        try
        {
            return new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"{path}: cannot read: {ex.Message}", ex);
        }
    }

    static int LineAt(byte[] bytes, long offset)
    {
        var line = 1;
        for (var i = 0; i < offset; i++)
            if (bytes[i] == (byte)'\n')
                line++;
        return line;
    }

    // System.Text.Json appends its own 0-based position; our message already names the 1-based line.
    static string Reason(JsonException ex)
    {
        var message = ex.Message;
        var position = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return position > 0 ? message[..position] : message;
    }
}
