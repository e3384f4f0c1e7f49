using System.Globalization;

namespace ServerlessTune.Core.Evaluation;

/// <summary>Number and label formatting shared by the Markdown and HTML reports.</summary>
public static class ReportFormat
{
    public static string Number(double value)
    {
        if (!double.IsFinite(value))
            return value.ToString(CultureInfo.InvariantCulture);
        var magnitude = Math.Abs(value);
        var format = magnitude >= 100 ? "0.#" : magnitude >= 1 ? "0.###" : "0.####";
        return value.ToString(format, CultureInfo.InvariantCulture);
    }

    public static string Signed(double value) => value > 0 ? "+" + Number(value) : Number(value);

    public static string Interval(MetricValue value) =>
        value.Low is { } low && value.High is { } high ? $"[{Number(low)}, {Number(high)}]" : "";

    public static string Interval(MetricDelta delta) =>
        delta.Low is { } low && delta.High is { } high ? $"[{Signed(low)}, {Signed(high)}]" : "";

    public static string WinsLossesTies(MetricDelta delta) =>
        delta.Wins is { } wins ? $"{wins}W/{delta.Losses}L/{delta.Ties}T" : "";

    /// <summary>Metrics any model has, in catalogue order.</summary>
    public static IEnumerable<MetricDefinition> PresentMetrics(EvaluationReport report) =>
        MetricCatalog.All.Where(d => report.Models.Any(m => m.Metrics.ContainsKey(d.Name)));

    /// <summary>The models the candidate was compared with, in report order.</summary>
    public static IEnumerable<string> References(EvaluationReport report) =>
        report.Models.Select(m => m.Name).Where(n => n != report.Candidate);

    public static MetricDelta? FindDelta(EvaluationReport report, string metric, string reference) =>
        report.Deltas.FirstOrDefault(d => d.Metric == metric && d.Reference == reference);

    public static string Truncate(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}
