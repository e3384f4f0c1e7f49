using ServerlessTune.Core.Common;

namespace ServerlessTune.Core.Evaluation;

/// <summary>
/// Percentile bootstrap confidence intervals for a mean. Every call starts a new generator from the
/// seed, so an interval depends only on its values and the settings, not on what was computed before.
/// Paired differences (candidate minus reference per case) give the interval of a delta.
/// </summary>
public sealed class Bootstrap(int resamples = Bootstrap.DefaultResamples, int seed = 0, double confidence = 0.95)
{
    public const int DefaultResamples = 1000;

    public int Resamples { get; } = resamples > 0 ? resamples : throw new ArgumentOutOfRangeException(nameof(resamples), "must be positive");
    public int Seed { get; } = seed;
    public double Confidence { get; } = confidence is > 0 and < 1 ? confidence : throw new ArgumentOutOfRangeException(nameof(confidence), "must be in (0, 1)");

    /// <summary>The interval of the mean, or null for no values.</summary>
    public (double Low, double High)? MeanInterval(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
            return null;
        var random = new Random(Seed);
        var means = new double[Resamples];
        for (var r = 0; r < Resamples; r++)
        {
            var sum = 0.0;
            for (var i = 0; i < values.Count; i++)
                sum += values[random.Next(values.Count)];
            means[r] = sum / values.Count;
        }
        Array.Sort(means);
        var tail = (1 - Confidence) / 2;
        return (Statistics.Percentile(means, tail), Statistics.Percentile(means, 1 - tail));
    }
}
