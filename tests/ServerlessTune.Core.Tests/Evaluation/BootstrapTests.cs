using ServerlessTune.Core.Evaluation;

namespace ServerlessTune.Core.Tests.Evaluation;

public class BootstrapTests
{
    static double[] Alternating(int n) => Enumerable.Range(0, n).Select(i => (double)(i % 2)).ToArray();

    [Fact]
    public void Constant_values_have_a_zero_width_interval()
    {
        Assert.Equal((0.75, 0.75), new Bootstrap().MeanInterval([0.75, 0.75, 0.75]));
    }

    [Fact]
    public void No_values_have_no_interval()
    {
        Assert.Null(new Bootstrap().MeanInterval([]));
    }

    [Fact]
    public void Same_seed_repeats_exactly_and_another_seed_differs()
    {
        var values = Alternating(50);
        var first = new Bootstrap(seed: 7).MeanInterval(values);
        Assert.Equal(first, new Bootstrap(seed: 7).MeanInterval(values));
        Assert.NotEqual(first, new Bootstrap(seed: 8).MeanInterval(values));
    }

    [Fact]
    public void Interval_of_a_proportion_agrees_with_the_normal_approximation()
    {
        // p = 0.5, n = 400: standard error 0.025, so the 95% interval is about 0.5 -/+ 0.049.
        var (low, high) = new Bootstrap(resamples: 2000, seed: 1).MeanInterval(Alternating(400))!.Value;
        Assert.InRange(low, 0.451 - 0.01, 0.451 + 0.01);
        Assert.InRange(high, 0.549 - 0.01, 0.549 + 0.01);
    }

    [Fact]
    public void Two_opposite_values_span_the_full_range()
    {
        // Resampled means are 0, 0.5 or 1 with probabilities 1/4, 1/2, 1/4, so both 2.5% tails reach the ends.
        Assert.Equal((0.0, 1.0), new Bootstrap().MeanInterval([0, 1]));
    }

    [Fact]
    public void Bad_settings_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Bootstrap(resamples: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Bootstrap(confidence: 1));
    }
}
