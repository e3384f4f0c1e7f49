namespace ServerlessTune.Core.Common;

/// <summary>Small summary statistics the reports share.</summary>
public static class Statistics
{
    /// <summary>Linear interpolation between closest ranks (numpy's default percentile method); <paramref name="sorted"/> ascending, non-empty.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double q)
    {
        var position = q * (sorted.Count - 1);
        var below = (int)Math.Floor(position);
        var above = Math.Min(below + 1, sorted.Count - 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }

    /// <summary>
    /// The Wilson score interval of a proportion (z = 1.96: 95 %). Unlike the normal approximation it stays inside [0, 1]
    /// and is honest for the few ratings a new version has.
    /// </summary>
    public static (double Low, double High) Wilson(int successes, int trials, double z = 1.96)
    {
        if (trials == 0) return (0, 1);
        double n = trials, p = successes / n, z2 = z * z;
        double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        double half = z * Math.Sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
        return (Math.Max(0, centre - half), Math.Min(1, centre + half));
    }
}
