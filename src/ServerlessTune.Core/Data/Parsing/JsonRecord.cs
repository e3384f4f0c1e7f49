using System.Text.Json;
using System.Text.Unicode;

namespace ServerlessTune.Core.Data.Parsing;

/// <summary>A JSON record's bytes (a JSONL line, a JSON array element, a Parquet row re-encoded as JSON).</summary>
public sealed class JsonRecord(long line, byte[] utf8) : RawRecord(line)
{
    public override ParseOutcome Parse()
    {
        if (!Utf8.IsValid(utf8))
            return new Rejection(RejectReason.InvalidUtf8, $"invalid UTF-8 at byte {FirstInvalidByte(utf8)}");
        try
        {
            using var document = JsonDocument.Parse(utf8);
            return RecordValidator.Validate(document.RootElement);
        }
        catch (JsonException ex)
        {
            // System.Text.Json appends "LineNumber: 0 | BytePositionInLine: n" (and a path); say it once, plainly.
            string reason = ex.Message.Split([" LineNumber:", " Path:"], StringSplitOptions.None)[0].TrimEnd('.', ' ');
            return new Rejection(RejectReason.InvalidJson, $"invalid JSON at byte {ex.BytePositionInLine + 1}: {reason}");
        }
    }

    internal static int FirstInvalidByte(ReadOnlySpan<byte> bytes)
    {
        var status = Utf8.ToUtf16(bytes, new char[bytes.Length], out int read, out _, replaceInvalidSequences: false);
        return status == System.Buffers.OperationStatus.Done ? -1 : read + 1;
    }
}
