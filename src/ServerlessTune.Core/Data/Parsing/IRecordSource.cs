namespace ServerlessTune.Core.Data.Parsing;

/// <summary>Finds record boundaries in one input file and yields the records in file order.</summary>
public interface IRecordSource
{
    IAsyncEnumerable<RawRecord> ReadAsync(Stream input, CancellationToken ct);
}
