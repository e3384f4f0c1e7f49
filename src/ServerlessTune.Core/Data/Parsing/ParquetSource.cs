using System.Runtime.CompilerServices;
using System.Text.Json;
using Parquet;
using Parquet.Serialization;

namespace ServerlessTune.Core.Data.Parsing;

/// <summary>
/// Parquet files (Hugging Face datasets) with a messages column (list of role/content structs) or
/// prompt/completion or question/answer columns. One row group is in memory at a time; each row is
/// re-encoded as JSON so the same validator judges it as a JSONL line. Line numbers are 1-based row numbers.
/// Needs a seekable stream (the service spools non-seekable inputs to a temporary file).
/// </summary>
public sealed class ParquetSource(int maxRecordBytes) : IRecordSource
{
    static readonly ParquetOptions Options = new();

    public async IAsyncEnumerable<RawRecord> ReadAsync(Stream input, [EnumeratorCancellation] CancellationToken ct)
    {
        int rowGroups = 0;
        Exception? failure = null;
        try
        {
            await using var reader = await ParquetReader.CreateAsync(input, Options, leaveStreamOpen: true, cancellationToken: ct);
            rowGroups = reader.RowGroupCount;
        }
        catch (Exception ex) when (ex is not OperationCanceledException) { failure = ex; }
        if (failure is not null)
        {
            yield return Unreadable(1, failure);
            yield break;
        }
        long row = 0;
        for (int group = 0; group < rowGroups; group++)
        {
            IList<Dictionary<string, object>> rows = [];
            try
            {
                input.Position = 0;
                rows = (await ParquetSerializer.DeserializeUntypedAsync(input, Options, group, ct)).Data;
            }
            catch (Exception ex) when (ex is not OperationCanceledException) { failure = ex; }
            if (failure is not null)
            {
                // A damaged row group ends the file: its rows cannot be told apart, so they count as one rejected record.
                yield return Unreadable(row + 1, failure);
                yield break;
            }
            foreach (var values in rows)
            {
                row++;
                var bytes = ToJson(values);
                yield return bytes.Length > maxRecordBytes
                    ? JsonLinesSource.TooLarge(row, bytes.Length, maxRecordBytes)
                    : new JsonRecord(row, bytes);
            }
        }
    }

    static ReadyRecord Unreadable(long row, Exception ex) =>
        new(row, new Rejection(RejectReason.InvalidParquet, $"unreadable Parquet data ({ex.GetType().Name}: {ex.Message})"));

    static byte[] ToJson(object row)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer)) Write(writer, row);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Untyped rows hold strings as ReadOnlyMemory&lt;char&gt;, structs as dictionaries and lists as enumerables.</summary>
    static void Write(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null: writer.WriteNullValue(); break;
            case string s: writer.WriteStringValue(s); break;
            case ReadOnlyMemory<char> m: writer.WriteStringValue(m.Span); break;
            case IDictionary<string, object?> map:
                writer.WriteStartObject();
                foreach (var (key, item) in map) { writer.WritePropertyName(key); Write(writer, item); }
                writer.WriteEndObject();
                break;
            case System.Collections.IEnumerable list and not byte[]:
                writer.WriteStartArray();
                foreach (var item in list) Write(writer, item);
                writer.WriteEndArray();
                break;
            default: JsonSerializer.Serialize(writer, value, value.GetType()); break;
        }
    }
}
