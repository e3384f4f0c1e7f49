using System.Text;

namespace ServerlessTune.Core.Data.Parsing;

/// <summary>
/// Picks an input's format from its first bytes, then its extension: content wins where it is
/// unambiguous (Parquet magic, a JSON object or array, a FAQ header row), so a file that is not what
/// its name says is still read for what it is. Binary content is no format at all (null).
/// </summary>
public static class FormatDetector
{
    static readonly byte[] Utf8Bom = [0xEF, 0xBB, 0xBF];

    public static InputFormat? Detect(string path, ReadOnlySpan<byte> head, InputFormat forced, IReadOnlyDictionary<string, string> roleNames)
    {
        if (forced != InputFormat.Auto) return forced;
        if (head.StartsWith("PAR1"u8)) return InputFormat.Parquet;
        if (head.StartsWith(Utf8Bom)) head = head[3..];
        if (LooksBinary(head)) return null;
        string extension = Path.GetExtension(path).ToLowerInvariant();
        int first = head.IndexOfAnyExcept(" \t\r\n"u8);
        if (first < 0) return FromExtension(extension) ?? InputFormat.Document;
        if (head[first] == '{') return InputFormat.Jsonl;
        if (head[first] == '[' && IsJsonArrayStart(head[(first + 1)..])) return InputFormat.Json;

        string text = DecodeHead(head);
        string firstLine = text[..(text.IndexOf('\n') is >= 0 and var n ? n : text.Length)];
        if (extension is ".csv" or ".tsv" or ".tab") return extension == ".csv" ? InputFormat.Csv : InputFormat.Tsv;
        if (LooksLikeFaqHeader(firstLine)) return firstLine.Contains('\t') ? InputFormat.Tsv : InputFormat.Csv;
        if (extension is ".jsonl" or ".ndjson" or ".json") return InputFormat.Jsonl;
        return LooksLikeTranscript(text, roleNames) ? InputFormat.Transcript : InputFormat.Document;
    }

    /// <summary>A record array opens with an object, array or string; "[10:02] Agent: ..." is a chat log line.</summary>
    static bool IsJsonArrayStart(ReadOnlySpan<byte> rest)
    {
        int next = rest.IndexOfAnyExcept(" \t\r\n"u8);
        return next < 0 || rest[next] is (byte)'{' or (byte)'[' or (byte)'"' or (byte)']';
    }

    /// <summary>Whether a transcript separates conversations with separator lines (else blank lines do).</summary>
    public static bool UsesSeparatorLines(ReadOnlySpan<byte> head) =>
        DecodeHead(head).Split('\n').Any(l => TranscriptSource.IsSeparator(l.TrimEnd('\r')));

    static InputFormat? FromExtension(string extension) => extension switch
    {
        ".jsonl" or ".ndjson" => InputFormat.Jsonl,
        ".json" => InputFormat.Json,
        ".csv" => InputFormat.Csv,
        ".tsv" or ".tab" => InputFormat.Tsv,
        ".parquet" => InputFormat.Parquet,
        _ => null,
    };

    /// <summary>
    /// A high share of control bytes (NUL included) means binary. A stray NUL in text does not: it rejects only the
    /// record it sits in (<see cref="TextChecks"/>).
    /// </summary>
    static bool LooksBinary(ReadOnlySpan<byte> head)
    {
        int control = 0;
        foreach (byte b in head) if (b < 0x20 && b is not (byte)'\n' and not (byte)'\r' and not (byte)'\t' and not 0x0C) control++;
        return head.Length > 0 && control * 10 > head.Length;
    }

    /// <summary>Why content that is no format was refused; text in UTF-16 or UTF-32 without a BOM says so.</summary>
    public static string DescribeBinary(ReadOnlySpan<byte> head)
    {
        int units = Math.Min(head.Length, 4096) / 4, zeros16 = 0, zeros32 = 0;
        for (int i = 0; i < units; i++)
        {
            var unit = head.Slice(i * 4, 4);
            // ASCII text in UTF-16 has a zero in every other byte; in UTF-32, three zeros in every four.
            if ((unit[0] == 0) != (unit[1] == 0) && (unit[2] == 0) != (unit[3] == 0)) zeros16++;
            if (unit.Count((byte)0) == 3) zeros32++;
        }
        string? encoding = units == 0 ? null : zeros32 * 10 >= units * 9 ? "UTF-32" : zeros16 * 10 >= units * 9 ? "UTF-16" : null;
        return encoding is null
            ? "binary content, not a supported text or Parquet format"
            : $"looks like text in {encoding} without a byte-order mark: save it as UTF-8 (or {encoding} with a BOM)";
    }

    static bool LooksLikeFaqHeader(string line)
    {
        var roles = line.Split([',', '\t', ';']).Select(f => Mapping.FieldNames.Classify(f.Trim().Trim('"'))).ToList();
        return roles.Count >= 2 && roles.Any(r => r is Mapping.FieldRole.User or Mapping.FieldRole.Input) && roles.Contains(Mapping.FieldRole.Assistant);
    }

    /// <summary>A transcript's first non-blank line carries a speaker label.</summary>
    static bool LooksLikeTranscript(string text, IReadOnlyDictionary<string, string> labels)
    {
        var line = text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0);
        return line is not null && TranscriptSource.TryLabel(line, labels, out _, out _);
    }

    /// <summary>The head may end inside a multi-byte character or hold invalid bytes: decode leniently, it is only for sniffing.</summary>
    static string DecodeHead(ReadOnlySpan<byte> head) => Encoding.UTF8.GetString(head);
}
