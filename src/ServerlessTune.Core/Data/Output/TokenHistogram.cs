namespace ServerlessTune.Core.Data.Output;

/// <summary>
/// Per-record token counts kept as a histogram: exact nearest-rank percentiles in memory bounded by the
/// distinct counts (at most --max-tokens of them), not by the number of records.
/// </summary>
public sealed class TokenHistogram
{
    readonly Dictionary<int, long> _records = [];
    long _trained;

    public void Add(int tokens, int trainedTokens)
    {
        _records[tokens] = _records.GetValueOrDefault(tokens) + 1;
        _trained += trainedTokens;
    }

    public long Total => _records.Sum(pair => pair.Key * pair.Value);

    public long Trained => _trained;

    public static TokenHistogram Merge(TokenHistogram a, TokenHistogram b)
    {
        var merged = new TokenHistogram { _trained = a._trained + b._trained };
        foreach (var source in new[] { a, b })
            foreach (var (tokens, records) in source._records)
                merged._records[tokens] = merged._records.GetValueOrDefault(tokens) + records;
        return merged;
    }

    public TokenSummary Summary()
    {
        long records = _records.Values.Sum();
        if (records == 0) return new TokenSummary(0, 0, 0, 0, 0, 0, 0);
        var counts = _records.OrderBy(pair => pair.Key).ToArray();
        long total = Total;
        return new TokenSummary(records, total, _trained, Math.Round((double)total / records, 2),
            Rank(counts, records, 0.50), Rank(counts, records, 0.95), counts[^1].Key);
    }

    /// <summary>The smallest count with at least ceil(p * n) records at or below it.</summary>
    static int Rank(KeyValuePair<int, long>[] counts, long records, double p)
    {
        long rank = Math.Max(1, (long)Math.Ceiling(p * records));
        long seen = 0;
        foreach (var (tokens, count) in counts)
            if ((seen += count) >= rank) return tokens;
        return counts[^1].Key;
    }
}
