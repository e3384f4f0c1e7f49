using ServerlessTune.Core.Data.Output;

namespace ServerlessTune.Core.Tests.Data;

public sealed class TokenHistogramTests
{
    /// <summary>Nearest rank over the sorted counts: the value at position ceil(p * n), 1-based.</summary>
    static int NearestRank(int[] sorted, double p) => sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1)];

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 20)]
    [InlineData(3, 1_000)]
    [InlineData(4, 10_007)]
    public void Summary_equals_the_sorted_list_figures_and_merging_equals_one_histogram_of_both(int seed, int records)
    {
        var random = new Random(seed);
        var counts = Enumerable.Range(0, records).Select(_ => random.Next(1, 600)).ToArray();
        var trained = counts.Select(c => c / 3).ToArray();
        var (first, second, whole) = (new TokenHistogram(), new TokenHistogram(), new TokenHistogram());
        for (int i = 0; i < records; i++)
        {
            (i % 3 == 0 ? first : second).Add(counts[i], trained[i]);
            whole.Add(counts[i], trained[i]);
        }
        var sorted = counts.Order().ToArray();
        long total = counts.Sum(c => (long)c);
        var expected = new TokenSummary(records, total, trained.Sum(t => (long)t), Math.Round((double)total / records, 2),
            NearestRank(sorted, 0.50), NearestRank(sorted, 0.95), sorted[^1]);
        Assert.Equal(expected, whole.Summary());
        Assert.Equal(expected, TokenHistogram.Merge(first, second).Summary());
    }

    [Fact]
    public void An_empty_histogram_summarises_to_zeros() =>
        Assert.Equal(new TokenSummary(0, 0, 0, 0, 0, 0, 0), new TokenHistogram().Summary());
}
