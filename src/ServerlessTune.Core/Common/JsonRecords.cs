using System.Text;
using System.Text.Json;

namespace ServerlessTune.Core.Common;

/// <summary>One JSON value read from a file, with the 1-based line where it starts (for error messages).</summary>
public readonly record struct LocatedJson(string Source, int Line, JsonElement Value)
{
    public string Where => $"{Source}:{Line}";
}

/// <summary>Reads JSONL (one value per non-blank line) or a JSON array, keeping each value's line.</summary>
public static class JsonRecords
{
    public static List<LocatedJson> ReadLines(string path)
    {
        using var reader = OpenText(path);
        return ReadLines(reader, path);
    }

    /// <param name="lastLineMayBeTorn">For a file that is appended while it is read: a last line that is not (yet) JSON is skipped.</param>
    public static List<LocatedJson> ReadLines(TextReader reader, string source, bool lastLineMayBeTorn = false)
    {
        var records = new List<LocatedJson>();
        var lineNumber = 0;
        for (var line = reader.ReadLine(); line is not null; lineNumber++)
        {
            var next = reader.ReadLine();
            if (!string.IsNullOrWhiteSpace(line))
            {
                try
                {
                    using var document = JsonDocument.Parse(line);
                    records.Add(new LocatedJson(source, lineNumber + 1, document.RootElement.Clone()));
                }
                catch (JsonException) when (lastLineMayBeTorn && next is null)
                {
                }
                catch (JsonException ex)
                {
                    throw new UserInputException($"{source}:{lineNumber + 1}: invalid JSON: {Reason(ex)}", ex);
                }
            }
            line = next;
        }
        return records;
    }

    /// <summary>A JSON array of values when the text starts with '[', otherwise JSONL.</summary>
    public static List<LocatedJson> ReadArrayOrLines(string path)
    {
        using var reader = OpenText(path);
        return ReadArrayOrLines(reader, path);
    }

    public static List<LocatedJson> ReadArrayOrLines(TextReader reader, string source)
    {
        var text = reader.ReadToEnd();
        return text.TrimStart().StartsWith('[') ? ReadArray(text, source) : ReadLines(new StringReader(text), source);
    }

    static List<LocatedJson> ReadArray(string text, string source)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var records = new List<LocatedJson>();
        var reader = new Utf8JsonReader(bytes);
        try
        {
            reader.Read();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var line = LineAt(bytes, reader.TokenStartIndex);
                using var document = JsonDocument.ParseValue(ref reader);
                records.Add(new LocatedJson(source, line, document.RootElement.Clone()));
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
