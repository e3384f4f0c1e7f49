namespace ServerlessTune.Core.Evaluation;

/// <summary>Statistics settings and what the report should record about how answers were produced.</summary>
public sealed record EvaluationOptions
{
    public int Seed { get; init; }
    public int Resamples { get; init; } = Bootstrap.DefaultResamples;
    public double Confidence { get; init; } = 0.95;
    public int WorstCases { get; init; } = 10;
    public TimeSpan RegexTimeout { get; init; } = CheckRunner.DefaultRegexTimeout;

    /// <summary>Free-form settings shown in the report, e.g. the decoding settings every model used.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// Turns what the models produced (<see cref="ModelOutputs"/>, computed elsewhere) into an
/// <see cref="EvaluationReport"/>: suite metrics with intervals, language-modelling metrics, feedback metrics, deltas of
/// the candidate against every other model, per-case results, the worst cases and the gate.
/// </summary>
public sealed class EvaluationService(EvaluationOptions options)
{
    public EvaluationReport Evaluate(
        string runId, EvalSuite? suite, IReadOnlyList<ModelOutputs> models, string candidate,
        GateOptions? gate = null, TrainingCurve? training = null, ContaminationReport? contamination = null, FeedbackSuite? feedback = null)
    {
        var duplicate = models.GroupBy(m => m.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"two models are named '{duplicate.Key}'", nameof(models));
        if (models.All(m => m.Name != candidate))
            throw new ArgumentException($"the candidate '{candidate}' is not among the models", nameof(candidate));
        if (suite is null && models.Any(m => m.Answers is not null))
            throw new ArgumentException("answers were given without a suite", nameof(suite));
        if (feedback is null && models.Any(m => m.FeedbackAnswers is not null))
            throw new ArgumentException("feedback answers were given without the feedback cases", nameof(feedback));

        var bootstrap = new Bootstrap(options.Resamples, options.Seed, options.Confidence);
        var checks = new CheckRunner(options.RegexTimeout);
        var scored = new Dictionary<string, ScoredSuite>(StringComparer.Ordinal);
        // Per-case values of every case metric (suite and feedback), for the paired comparisons.
        var perCase = new Dictionary<string, Dictionary<string, double?[]>>(StringComparer.Ordinal);
        var feedbackAnswers = new List<IReadOnlyList<FeedbackAnswer>>();
        var reports = new List<ModelReport>();
        foreach (var model in models)
        {
            var metrics = new Dictionary<string, MetricValue>();
            if (model.LanguageModel is not null)
                foreach (var (name, value) in model.LanguageModel.ToMetrics())
                    metrics[name] = value;
            if (suite is not null && model.Answers is not null)
            {
                var result = SuiteScoring.Score(suite, model.Name, model.Answers, checks);
                scored[model.Name] = result;
                perCase[model.Name] = new(result.PerCase);
                foreach (var (name, value) in SuiteScoring.SummariseAll(result, bootstrap))
                    metrics[name] = value;
            }
            if (feedback is not null && model.FeedbackAnswers is not null)
            {
                var (answers, values) = FeedbackScoring.Score(feedback, model.Name, model.FeedbackAnswers);
                feedbackAnswers.Add(answers);
                var modelCases = perCase.TryGetValue(model.Name, out var existing) ? existing : perCase[model.Name] = [];
                foreach (var (name, perModel) in values)
                {
                    modelCases[name] = perModel;
                    if (SuiteScoring.Summarise(name, perModel, bootstrap) is { } value) metrics[name] = value;
                }
            }
            reports.Add(new ModelReport(model.Name, model.Source, metrics));
        }

        var candidateReport = reports.Single(r => r.Name == candidate);
        var deltas = reports.Where(r => r.Name != candidate)
            .SelectMany(r => ModelComparison.Compare(
                candidateReport, r, perCase.GetValueOrDefault(candidate), perCase.GetValueOrDefault(r.Name), bootstrap))
            .ToList();
        var answered = models.Where(m => scored.ContainsKey(m.Name)).Select(m => (m.Name, Scored: scored[m.Name])).ToList();
        var cases = suite is null ? [] : CaseReports(suite, answered.Select(a => a.Scored).ToList());
        var byTag = suite is null ? [] : TagSummaries(suite, answered, bootstrap);
        if (contamination is not null && suite is not null)
            contamination = contamination with { Subsets = ContaminationSubsets(suite, answered, contamination, bootstrap) };
        var feedbackReport = feedback is null || feedbackAnswers.Count == 0 ? null : FeedbackScoring.Report(feedback, feedbackAnswers);

        return new EvaluationReport(
            runId, candidate, suite?.Source, reports, deltas, cases, byTag, WorstCases(cases, candidate),
            models.SelectMany(m => m.Dialogues ?? []).ToList(),
            gate is null ? null : QualityGate.Evaluate(gate, reports, contamination?.Subsets, feedbackReport),
            training,
            Settings()) { Contamination = contamination, Feedback = feedbackReport };
    }

    /// <summary>Each answering model's suite metrics over the clean cases and over the contaminated ones.</summary>
    static List<TagSummary> ContaminationSubsets(EvalSuite suite, IReadOnlyList<(string Name, ScoredSuite Scored)> answered,
        ContaminationReport contamination, Bootstrap bootstrap)
    {
        var dirty = Enumerable.Range(0, suite.Cases.Count).Where(i => contamination.IsContaminated(suite.Cases[i].Id)).ToList();
        var clean = Enumerable.Range(0, suite.Cases.Count).Except(dirty).ToList();
        return [.. new[] { (Name: ContaminationReport.Clean, Cases: clean), (Name: ContaminationReport.Contaminated, Cases: dirty) }
            .SelectMany(subset => answered.Select(a => new TagSummary(subset.Name, a.Name, subset.Cases.Count,
                subset.Cases.Count == 0 ? new Dictionary<string, MetricValue>() : SuiteScoring.SummariseAll(a.Scored, bootstrap, subset.Cases))))];
    }

    static List<CaseReport> CaseReports(EvalSuite suite, IReadOnlyList<ScoredSuite> scored) =>
        suite.Cases.Select((c, i) => new CaseReport(c.Id, c.Messages, c.References, c.Tags, scored.Select(s => s.Answers[i]).ToList())).ToList();

    static List<TagSummary> TagSummaries(EvalSuite suite, IReadOnlyList<(string Name, ScoredSuite Scored)> answered, Bootstrap bootstrap) =>
        suite.Cases.SelectMany(c => c.Tags).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .SelectMany(tag =>
            {
                var tagged = Enumerable.Range(0, suite.Cases.Count).Where(i => suite.Cases[i].Tags.Contains(tag, StringComparer.Ordinal)).ToList();
                return answered.Select(a => new TagSummary(tag, a.Name, tagged.Count, SuiteScoring.SummariseAll(a.Scored, bootstrap, tagged)));
            })
            .ToList();

    // Worst first: most failed checks, then lowest F1 and ROUGE-L; cases with full F1 and no failed check are not listed.
    List<string> WorstCases(IReadOnlyList<CaseReport> cases, string candidate) =>
        cases.Select(c => (c.Id, Answer: c.Answers.FirstOrDefault(a => a.Model == candidate)))
            .Where(x => x.Answer is not null && (x.Answer.FailedChecks > 0 || x.Answer.Scores is { F1: < 1 }))
            .OrderByDescending(x => x.Answer!.FailedChecks)
            .ThenBy(x => x.Answer!.Scores?.F1 ?? 1)
            .ThenBy(x => x.Answer!.Scores?.RougeL ?? 1)
            .ThenBy(x => x.Id, StringComparer.Ordinal)
            .Take(options.WorstCases)
            .Select(x => x.Id)
            .ToList();

    Dictionary<string, string> Settings() =>
        new(options.Settings)
        {
            ["bootstrap_resamples"] = options.Resamples.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["bootstrap_seed"] = options.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["confidence"] = options.Confidence.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
}
