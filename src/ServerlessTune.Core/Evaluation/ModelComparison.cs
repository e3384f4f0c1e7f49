namespace ServerlessTune.Core.Evaluation;

/// <summary>Per-metric deltas of one model against another, with case-by-case wins, losses and ties for suite metrics.</summary>
public static class ModelComparison
{
    public static List<MetricDelta> Compare(
        ModelReport model, ModelReport reference,
        IReadOnlyDictionary<string, double?[]>? modelCases, IReadOnlyDictionary<string, double?[]>? referenceCases,
        Bootstrap bootstrap)
    {
        var deltas = new List<MetricDelta>();
        foreach (var definition in MetricCatalog.All)
        {
            if (!model.Metrics.TryGetValue(definition.Name, out var value) || !reference.Metrics.TryGetValue(definition.Name, out var referenceValue))
                continue;
            var delta = value.Value - referenceValue.Value;
            var relative = referenceValue.Value != 0 ? delta / Math.Abs(referenceValue.Value) : (double?)null;
            // A NaN (diverged model) is neither better nor worse: it has no direction to show.
            bool? improved = delta == 0 || double.IsNaN(delta) ? null : (delta > 0) == definition.HigherIsBetter;
            var result = new MetricDelta(definition.Name, model.Name, reference.Name, delta, relative, improved);
            if (definition.Kind != MetricKind.LanguageModel
                && modelCases?.GetValueOrDefault(definition.Name) is { } mine
                && referenceCases?.GetValueOrDefault(definition.Name) is { } theirs)
                result = WithCases(result, definition, mine, theirs, bootstrap);
            deltas.Add(result);
        }
        return deltas;
    }

    static MetricDelta WithCases(MetricDelta delta, MetricDefinition definition, double?[] mine, double?[] theirs, Bootstrap bootstrap)
    {
        var differences = new List<double>();
        int wins = 0, losses = 0, ties = 0;
        for (var i = 0; i < mine.Length; i++)
        {
            if (mine[i] is not { } a || theirs[i] is not { } b)
                continue;
            var difference = a - b;
            differences.Add(difference);
            if (difference == 0)
                ties++;
            else if ((difference > 0) == definition.HigherIsBetter)
                wins++;
            else
                losses++;
        }
        var interval = definition.Kind is MetricKind.CaseMean or MetricKind.FeedbackMean ? bootstrap.MeanInterval(differences) : null;
        return delta with { Low = interval?.Low, High = interval?.High, Wins = wins, Losses = losses, Ties = ties };
    }
}
