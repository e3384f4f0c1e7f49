using System.Text.Json.Serialization;

namespace ServerlessTune.Core.Evaluation;

public enum RuleStatus
{
    Passed,
    Failed,
    Skipped,
}

/// <summary>How one rule fared: the measured value, the threshold it was held to, and a readable sentence.</summary>
/// <remarks>A diverged model's metric is NaN or Infinity; named literals keep the result serialisable under any options.</remarks>
[JsonNumberHandling(JsonNumberHandling.AllowNamedFloatingPointLiterals)]
public sealed record RuleOutcome(GateRule Rule, RuleStatus Status, double? Actual, double? Threshold, string Message);

/// <summary>
/// The gate's verdict, wherever it goes: the report, the run's result and the registered version. Passed is true
/// when no rule failed; skipped rules (reference model not evaluated) are listed, never counted as passes. A manual
/// gate's decision (who approved or rejected it, or that nobody answered) is added as a note.
/// </summary>
public sealed record GateResult(GateMode Mode, bool Passed, IReadOnlyList<RuleOutcome> Rules)
{
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>Why the gate failed: every failed rule with its numbers, then the notes.</summary>
    public IReadOnlyList<string> Reasons => [.. Rules.Where(r => r.Status == RuleStatus.Failed).Select(r => r.Message), .. Notes];

    public string Summary()
    {
        var failed = Rules.Count(r => r.Status == RuleStatus.Failed);
        var skipped = Rules.Count(r => r.Status == RuleStatus.Skipped);
        var counts = $"{Rules.Count - failed - skipped} passed, {failed} failed, {skipped} skipped of {Rules.Count} rules";
        return $"gate {(Passed ? "passed" : "failed")} ({Mode.ToString().ToLowerInvariant()}): {counts}";
    }
}

/// <summary>Holds the evaluated models' metrics to the configured rules.</summary>
public static class QualityGate
{
    /// <param name="subsets">Suite metrics over the clean and contaminated cases, for rules with a subset (null when not measured).</param>
    /// <param name="feedback">The feedback cases played (null when the feedback family did not run).</param>
    public static GateResult Evaluate(GateOptions config, IReadOnlyList<ModelReport> models, IReadOnlyList<TagSummary>? subsets = null,
        FeedbackReport? feedback = null)
    {
        var byName = models.ToDictionary(m => m.Name, StringComparer.Ordinal);
        var outcomes = config.Rules.Select(rule => Evaluate(rule, byName, subsets, feedback)).ToList();
        return new GateResult(config.Mode, outcomes.All(o => o.Status != RuleStatus.Failed), outcomes);
    }

    static RuleOutcome Evaluate(GateRule rule, Dictionary<string, ModelReport> models, IReadOnlyList<TagSummary>? subsets, FeedbackReport? feedback)
    {
        var text = rule.Describe();
        // A rule on a subset reads the model's metrics over those cases; the others, over the whole suite.
        IReadOnlyDictionary<string, MetricValue>? MetricsOf(string name) => rule.Subset is null
            ? models.GetValueOrDefault(name)?.Metrics
            : subsets?.FirstOrDefault(s => s.Tag == rule.Subset && s.Model == name)?.Metrics;
        if (!models.ContainsKey(rule.Model))
            return new(rule, RuleStatus.Failed, null, null, $"failed: {text}: model '{rule.Model}' was not evaluated");
        // Nothing to fix is not a failure: a first run, or a project whose users rejected nothing since the last one.
        if (MetricCatalog.Get(rule.Metric).Kind == MetricKind.FeedbackMean && feedback?.CasesFor(rule.Metric) == 0)
            return new(rule, RuleStatus.Skipped, null, null, $"skipped: {text}: no {(rule.Metric == MetricCatalog.FeedbackFixed
                ? "rated-down answers without a correction" : "corrected answers")} among the run's feedback cases");
        if (rule.Subset is not null && subsets is null)
            return new(rule, RuleStatus.Failed, null, null, $"failed: {text}: contamination was not measured (no training data to compare the suite with)");
        if (MetricsOf(rule.Model)?.GetValueOrDefault(rule.Metric) is not { } actual)
            return new(rule, RuleStatus.Failed, null, null, $"failed: {text}: {rule.Model} has no {rule.MetricName} (it was not measured)");

        double threshold;
        string thresholdText;
        if (rule.Value is { } fixedValue)
        {
            threshold = fixedValue;
            thresholdText = GateRule.Number(threshold);
        }
        else
        {
            var referenceName = rule.RelativeTo!;
            if (!models.ContainsKey(referenceName))
                return new(rule, RuleStatus.Skipped, actual.Value, null, $"skipped: {text}: no model '{referenceName}' was evaluated");
            if (MetricsOf(referenceName)?.GetValueOrDefault(rule.Metric) is not { } referenceValue)
                return new(rule, RuleStatus.Skipped, actual.Value, null, $"skipped: {text}: {referenceName} has no {rule.MetricName} (it was not measured)");
            threshold = referenceValue.Value * rule.Factor + rule.Offset;
            thresholdText = $"{GateRule.Number(threshold)} ({rule.RightSide()}, where {referenceName} {rule.MetricName} = {GateRule.Number(referenceValue.Value)})";
        }

        var passed = Holds(actual.Value, rule.Op, threshold);
        var sentence = $"{rule.Model} {rule.MetricName} {GateRule.Number(actual.Value)} {(passed ? "is" : "is not")} {rule.Op} {thresholdText}";
        return new(rule, passed ? RuleStatus.Passed : RuleStatus.Failed, actual.Value, threshold, $"{(passed ? "passed" : "failed")}: {sentence}");
    }

    // Equality allows for the rounding of sums that should be exact (counts, rates of small integers).
    static bool Holds(double actual, string op, double threshold)
    {
        var tolerance = 1e-9 * Math.Max(1, Math.Abs(threshold));
        return op switch
        {
            "<" => actual < threshold,
            "<=" => actual <= threshold + tolerance,
            ">" => actual > threshold,
            ">=" => actual >= threshold - tolerance,
            "==" => Math.Abs(actual - threshold) <= tolerance,
            _ => throw new ArgumentException($"unknown operator '{op}'", nameof(op)),
        };
    }
}
