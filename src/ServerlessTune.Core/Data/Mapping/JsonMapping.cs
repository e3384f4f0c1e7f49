using System.Runtime.CompilerServices;
using System.Text.Json;
using ServerlessTune.Core.Data.Parsing;

namespace ServerlessTune.Core.Data.Mapping;

/// <summary>
/// The mapping of a file of JSON records (JSONL, a JSON array, Parquet rows): its first records are held back and
/// parsed here, on the reading thread, until <see cref="FieldSample.MaxRecords"/> of them (or <see cref="FieldSample.MaxBytes"/>)
/// decide the mapping; then every record, held or not, goes on carrying it. Records stay in file order.
/// </summary>
public static class JsonMapping
{
    public static async IAsyncEnumerable<RawRecord> ApplyAsync(IAsyncEnumerable<RawRecord> records, string source, PrepareOptions options,
        Action<RecordMapping> mapped, [EnumeratorCancellation] CancellationToken ct)
    {
        var sample = new FieldSample();
        var held = new List<RawRecord>();
        long bytes = 0;
        RecordMapping? mapping = null;
        await foreach (var record in records.WithCancellation(ct))
        {
            if (mapping is not null)
            {
                if (record is JsonRecord json) json.Mapping = mapping;
                yield return record;
                continue;
            }
            held.Add(record);
            if (record is JsonRecord sampled && Sample(sampled, sample)) bytes += sampled.Length;
            if (sample.Records < FieldSample.MaxRecords && bytes < FieldSample.MaxBytes) continue;
            mapping = Decide(source, sample, options, mapped);
            foreach (var r in Assign(held, mapping)) yield return r;
            held.Clear();
        }
        if (mapping is null)
            foreach (var r in Assign(held, Decide(source, sample, options, mapped))) yield return r;
    }

    static RecordMapping Decide(string source, FieldSample sample, PrepareOptions options, Action<RecordMapping> mapped)
    {
        var mapping = FieldMapper.Decide(source, sample, options);
        mapped(mapping);
        return mapping;
    }

    static IEnumerable<RawRecord> Assign(List<RawRecord> held, RecordMapping mapping)
    {
        foreach (var record in held)
        {
            if (record is JsonRecord json) json.Mapping = mapping;
            yield return record;
        }
    }

    /// <summary>Adds the record to the sample if it is a JSON object at all (broken records say nothing about the file).</summary>
    static bool Sample(JsonRecord record, FieldSample sample)
    {
        if (record.Decoded() is not { } document) return false;
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) return false;
            sample.Add(document.RootElement);
            return true;
        }
    }
}
