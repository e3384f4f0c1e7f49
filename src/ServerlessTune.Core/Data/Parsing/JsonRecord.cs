using System.Text.Json;
using ServerlessTune.Core.Data.Mapping;

namespace ServerlessTune.Core.Data.Parsing;

/// <summary>A JSON record's bytes (a JSONL line, a JSON array element, a Parquet row re-encoded as JSON).</summary>
public sealed class JsonRecord(long line, byte[] utf8) : RawRecord(line)
{
    // A key given twice is ambiguous (which value did the author mean?), so it is an error naming the key, not "last one wins".
    static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false };

    /// <summary>The file's mapping, set by <see cref="JsonMapping"/> before the record reaches a worker.</summary>
    public RecordMapping Mapping { get; set; } = RecordMapping.OpenAiMessages(PrepareOptions.DefaultRoles);

    public int Length => utf8.Length;

    public override ParseOutcome Parse()
    {
        if (TextChecks.Reject(utf8) is { } rejection) return rejection;
        return Decode(utf8, out var document) is { } invalid ? invalid : Validate(document!);
    }

    /// <summary>The parsed record for sampling a file's fields, or null when it would be rejected anyway.</summary>
    internal JsonDocument? Decoded() => TextChecks.Reject(utf8) is null && Decode(utf8, out var document) is null ? document : null;

    ParseOutcome Validate(JsonDocument document)
    {
        using (document) return RecordValidator.Validate(document.RootElement, Mapping);
    }

    /// <summary>Parses strictly (duplicate keys refused); the rejection when the bytes are not one JSON value.</summary>
    internal static Rejection? Decode(byte[] utf8, out JsonDocument? document)
    {
        document = null;
        // A record cut short (the last line of a truncated export) is the common broken line; telling that needs no parser
        // exception, and one exception costs more than parsing hundreds of good records.
        var untilEnd = utf8.AsSpan().TrimEnd(" \t\r\n"u8);
        var trimmed = untilEnd.TrimStart(" \t\r\n"u8);
        if (trimmed.Length > 0 && trimmed[0] == '{' && trimmed[^1] != '}')
            return new Rejection(RejectReason.InvalidJson, $"invalid JSON at byte {untilEnd.Length}: the record ends before its closing '}}' (cut short?)");
        try
        {
            document = JsonDocument.Parse(utf8, Strict);
            return null;
        }
        catch (JsonException ex) when (ex.Message.StartsWith("Duplicate property", StringComparison.Ordinal))
        {
            // The parser names the key in quotes: "Duplicate property 'role' encountered during deserialization."
            int open = ex.Message.IndexOf('\''), close = ex.Message.LastIndexOf('\'');
            string key = close > open ? ex.Message[(open + 1)..close] : "?";
            return new Rejection(RejectReason.DuplicateKey, $"key '{(key.Length <= 40 ? key : key[..40] + "...")}' appears twice in one object");
        }
        catch (JsonException ex)
        {
            // System.Text.Json appends "LineNumber: 0 | BytePositionInLine: n" (and a path); say it once, plainly.
            string reason = ex.Message.Split([" LineNumber:", " Path:"], StringSplitOptions.None)[0].TrimEnd('.', ' ');
            return new Rejection(RejectReason.InvalidJson, $"invalid JSON at byte {ex.BytePositionInLine + 1}: {reason}");
        }
    }
}
