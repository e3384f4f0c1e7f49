namespace ServerlessTune.Core.Evaluation;

/// <summary>One model's answers to a suite, scored, with each per-case metric as a value per case (null where it does not apply).</summary>
public sealed class ScoredSuite
{
    public required IReadOnlyList<ModelAnswer> Answers { get; init; }
    public required IReadOnlyDictionary<string, double?[]> PerCase { get; init; }
}

/// <summary>Scores answers against a suite's references and checks.</summary>
public static class SuiteScoring
{
    static readonly (string Metric, string CheckKind)[] CountedChecks =
    [
        (MetricCatalog.MustContainFailures, CaseChecks.MustContainKey),
        (MetricCatalog.MustNotContainViolations, CaseChecks.MustNotContainKey),
        (MetricCatalog.RegexFailures, CaseChecks.RegexKey),
        (MetricCatalog.RefusalMismatches, CaseChecks.RefusalExpectedKey),
    ];

    public static ScoredSuite Score(EvalSuite suite, string model, IReadOnlyDictionary<string, string> answers, CheckRunner checks)
    {
        var missing = suite.Cases.FirstOrDefault(c => !answers.ContainsKey(c.Id));
        if (missing is not null)
            throw new ArgumentException($"model '{model}' has no answer for case '{missing.Id}'", nameof(answers));
        var caseIds = suite.Cases.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        var extra = answers.Keys.FirstOrDefault(id => !caseIds.Contains(id));
        if (extra is not null)
            throw new ArgumentException($"model '{model}' answered '{extra}', which is not a case of the suite", nameof(answers));

        var scored = suite.Cases.Select(c =>
        {
            var answer = answers[c.Id];
            var scores = c.References.Count > 0 ? AnswerMetrics.Score(answer, c.References) : null;
            return new ModelAnswer(model, answer, scores, checks.Run(c.Checks, answer));
        }).ToList();

        var perCase = new Dictionary<string, double?[]>
        {
            [MetricCatalog.ExactMatch] = scored.Select(a => a.Scores?.ExactMatch).ToArray(),
            [MetricCatalog.F1] = scored.Select(a => a.Scores?.F1).ToArray(),
            [MetricCatalog.RougeL] = scored.Select(a => a.Scores?.RougeL).ToArray(),
            [MetricCatalog.CheckPassRate] = scored.Select(a => a.Checks.Count == 0 ? (double?)null : a.FailedChecks == 0 ? 1 : 0).ToArray(),
        };
        foreach (var (metric, kind) in CountedChecks)
        {
            perCase[metric] = scored.Select(a =>
            {
                var ofKind = a.Checks.Where(c => c.Kind == kind).ToList();
                return ofKind.Count == 0 ? (double?)null : ofKind.Any(c => !c.Passed) ? 1 : 0;
            }).ToArray();
        }
        return new ScoredSuite { Answers = scored, PerCase = perCase };
    }

    /// <summary>Every suite metric that applies to at least one of the selected cases (all cases when <paramref name="cases"/> is null).</summary>
    public static Dictionary<string, MetricValue> SummariseAll(ScoredSuite scored, Bootstrap bootstrap, IReadOnlyList<int>? cases = null)
    {
        var metrics = new Dictionary<string, MetricValue>();
        foreach (var (name, perCase) in scored.PerCase)
        {
            var selected = cases is null ? perCase : cases.Select(i => perCase[i]).ToArray();
            if (Summarise(name, selected, bootstrap) is { } value)
                metrics[name] = value;
        }
        return metrics;
    }

    // A mean with its interval, or a count, over the cases where the metric applies; null when none does.
    public static MetricValue? Summarise(string metric, double?[] perCase, Bootstrap bootstrap)
    {
        var values = perCase.Where(v => v is not null).Select(v => v!.Value).ToList();
        if (values.Count == 0)
            return null;
        if (MetricCatalog.Get(metric).Kind == MetricKind.CaseCount)
            return new MetricValue(values.Sum(), values.Count);
        var interval = bootstrap.MeanInterval(values)!.Value;
        return new MetricValue(values.Average(), values.Count, interval.Low, interval.High);
    }
}
