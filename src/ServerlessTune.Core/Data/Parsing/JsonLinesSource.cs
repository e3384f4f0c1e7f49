using System.Runtime.CompilerServices;

namespace ServerlessTune.Core.Data.Parsing;

/// <summary>JSONL: one record per non-blank line (chat, prompt/completion or question/answer objects).</summary>
public sealed class JsonLinesSource(int maxRecordBytes) : IRecordSource
{
    public async IAsyncEnumerable<RawRecord> ReadAsync(Stream input, [EnumeratorCancellation] CancellationToken ct)
    {
        var reader = new LineReader(input, maxRecordBytes);
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.TooLarge)
                yield return TooLarge(line.Number, line.Length, maxRecordBytes);
            else if (!IsBlank(line.Bytes!))
                yield return new JsonRecord(line.Number, line.Bytes!);
        }
    }

    internal static ReadyRecord TooLarge(long line, long length, int limit) =>
        new(line, new Rejection(RejectReason.RecordTooLarge, $"record is {length} bytes, over the limit of {limit}"));

    static bool IsBlank(ReadOnlySpan<byte> bytes) => bytes.IndexOfAnyExcept(" \t\r"u8) < 0;
}
