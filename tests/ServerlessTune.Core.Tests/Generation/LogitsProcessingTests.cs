using ServerlessTune.Core.Generation;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests.Generation;

public class LogitsProcessingTests
{
    static float[] Row(Tensor t, int row) => t[row].data<float>().ToArray();

    [Fact]
    public void Repetition_penalty_divides_positive_and_multiplies_negative_logits_of_seen_tokens_only()
    {
        using var logits = tensor(new float[] { 2, -1, 0.5f, -4, 2, -1, 0.5f, -4 }, 2, 4);
        using var seen = tensor(new[] { true, true, false, false, false, false, true, true }, 2, 4);
        using var result = LogitsProcessing.RepetitionPenalty(logits, seen, 2.0);
        Assert.Equal(new float[] { 1, -2, 0.5f, -4 }, Row(result, 0));
        Assert.Equal(new float[] { 2, -1, 0.25f, -8 }, Row(result, 1));
    }

    [Fact]
    public void Temperature_divides_logits()
    {
        using var logits = tensor(new float[] { 2, -1, 0 }, 1, 3);
        using var result = LogitsProcessing.Temperature(logits, 0.5);
        Assert.Equal(new float[] { 4, -2, 0 }, Row(result, 0));
    }

    [Fact]
    public void Top_k_keeps_the_k_largest_and_their_ties()
    {
        var inf = float.NegativeInfinity;
        using var logits = tensor(new float[] { 1, 3, 2, 3, 0, 5, 4, 3, 2, 1 }, 2, 5);
        using var k2 = LogitsProcessing.TopK(logits, 2);
        Assert.Equal(new[] { inf, 3, inf, 3, inf }, Row(k2, 0));
        Assert.Equal(new[] { 5, 4, inf, inf, inf }, Row(k2, 1));
        using var k3 = LogitsProcessing.TopK(logits, 3);
        Assert.Equal(new[] { inf, 3, 2, 3, inf }, Row(k3, 0));
        using var off = LogitsProcessing.TopK(logits, 0);
        Assert.Equal(new float[] { 1, 3, 2, 3, 0 }, Row(off, 0));
    }

    [Fact]
    public void Top_p_keeps_the_smallest_set_of_likeliest_tokens_reaching_p()
    {
        var inf = float.NegativeInfinity;
        var logp = new[] { 0.5, 0.3, 0.15, 0.05 }.Select(p => (float)Math.Log(p)).ToArray();
        using var logits = tensor(logp, 1, 4);
        using var p75 = LogitsProcessing.TopP(logits, 0.75);
        Assert.Equal(new[] { logp[0], logp[1], inf, inf }, Row(p75, 0));
        using var p4 = LogitsProcessing.TopP(logits, 0.4);
        Assert.Equal(new[] { logp[0], inf, inf, inf }, Row(p4, 0));
        using var tiny = LogitsProcessing.TopP(logits, 1e-9);
        Assert.Equal(new[] { logp[0], inf, inf, inf }, Row(tiny, 0));
        using var p90 = LogitsProcessing.TopP(logits, 0.9);
        Assert.Equal(new[] { logp[0], logp[1], logp[2], inf }, Row(p90, 0));
    }

    [Fact]
    public void Top_p_works_row_by_row_on_shuffled_vocabularies()
    {
        var inf = float.NegativeInfinity;
        var a = new[] { 0.05, 0.5, 0.15, 0.3 }.Select(p => (float)Math.Log(p)).ToArray();
        var b = new[] { 0.3, 0.15, 0.05, 0.5 }.Select(p => (float)Math.Log(p)).ToArray();
        using var logits = tensor(a.Concat(b).ToArray(), 2, 4);
        using var result = LogitsProcessing.TopP(logits, 0.75);
        Assert.Equal(new[] { inf, a[1], inf, a[3] }, Row(result, 0));
        Assert.Equal(new[] { b[0], inf, inf, b[3] }, Row(result, 1));
    }

    [Theory]
    [InlineData(0.5, 5.0, 0)]
    [InlineData(0.9, 5.0, 0)]
    [InlineData(0.95, 6.0, 0)]
    [InlineData(0.9, 3.0, 1)]
    [InlineData(0.9, 0.5, 2)]
    public void Top_p_among_the_likeliest_candidates_keeps_what_sorting_the_whole_vocabulary_keeps(double p, double spread, int decidedBy)
    {
        // A 50k vocabulary: the wider the spread, the fewer tokens hold p: among the first candidates, the second, or the sort.
        using var generator = new Generator(7, CPU);
        using var logits = randn([3, 50_000], generator: generator) * spread;
        using var fast = LogitsProcessing.TopP(logits, p);
        using var sorted = LogitsProcessing.TopPBySort(logits, p);
        using var kept = fast.isfinite();
        Assert.True((kept == sorted.isfinite()).all().item<bool>());
        Assert.True(kept.sum(-1).min().item<long>() >= 1);
        var tiers = LogitsProcessing.TopPCandidates;
        long most = kept.sum(-1).max().item<long>();
        Assert.True(decidedBy == tiers.Count ? most > tiers[^1] : most < tiers[decidedBy] && (decidedBy == 0 || most > tiers[decidedBy - 1]),
            $"{most} tokens kept; expected them decided by tier {decidedBy}");
    }
}
