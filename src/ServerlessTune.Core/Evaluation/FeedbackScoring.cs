using ServerlessTune.Core.Data.Dedup;
using ServerlessTune.Core.Feedback;

namespace ServerlessTune.Core.Evaluation;

/// <summary>The feedback cases of a run (prepared/{run}/feedback_cases.jsonl) and the near-duplicate threshold "the same answer" is judged by.</summary>
public sealed record FeedbackSuite(string Source, IReadOnlyList<FeedbackCase> Cases, double Threshold)
{
    /// <summary>The cases as a suite to answer (the served conversation up to the rejected answer; the correction as reference).</summary>
    public EvalSuite AsSuite() => new(Source, [.. Cases.Select(c => new EvalCase(c.Id, c.Messages,
        c.Correction is null ? [] : [c.Correction], CaseChecks.None, []))]);
}

/// <summary>
/// One model's answer to a feedback case. Fixed is set for a rejected case without a correction (true when the answer is no
/// longer what users rejected), null for a corrected one, whose Scores are against the correction.
/// </summary>
public sealed record FeedbackAnswer(string Model, string Answer, bool? Fixed, string Verdict, double Similarity, AnswerScores? Scores);

/// <summary>A served answer users rejected, and what each model answers now.</summary>
public sealed record FeedbackCaseReport(string Id, string Version, string Question, string RejectedAnswer, string? Correction, string? Comment,
    IReadOnlyList<FeedbackAnswer> Answers);

/// <param name="Rejected">Cases rated down without a correction: never trained on; feedback_fixed is measured on them.</param>
/// <param name="Corrected">Cases with a correction: the correction was trained on; feedback_corrected_f1 is measured on them.</param>
public sealed record FeedbackReport(string Source, double Threshold, int Rejected, int Corrected, IReadOnlyList<FeedbackCaseReport> Cases)
{
    /// <summary>The cases a feedback metric is measured on.</summary>
    public int CasesFor(string metric) => metric == MetricCatalog.FeedbackFixed ? Rejected : Corrected;
}

/// <summary>
/// Judges answers to the feedback cases. A rejected answer without a correction has no reference, so "fixed" is judged
/// against what was rejected: the new answer is fixed when it is not empty, is not a refusal (<see cref="RefusalDetector"/>)
/// and is not a near-duplicate of the rejected answer under data preparation's own test (word-shingle MinHash similarity
/// below prepare.near_duplicate_threshold). That says the model no longer gives the answer users rejected, not that the
/// new one is right: the report lists each case so a person can read them. A corrected case is scored against the
/// correction (token F1, ROUGE-L), knowing it was trained on.
/// </summary>
public static class FeedbackScoring
{
    public static (IReadOnlyList<FeedbackAnswer> Answers, IReadOnlyDictionary<string, double?[]> PerCase) Score(
        FeedbackSuite suite, string model, IReadOnlyDictionary<string, string> answers)
    {
        var missing = suite.Cases.FirstOrDefault(c => !answers.ContainsKey(c.Id));
        if (missing is not null)
            throw new ArgumentException($"model '{model}' has no answer for feedback case '{missing.Id}'", nameof(answers));
        var scored = suite.Cases.Select(c => Judge(c, model, answers[c.Id], suite.Threshold)).ToList();
        var perCase = new Dictionary<string, double?[]>
        {
            [MetricCatalog.FeedbackFixed] = [.. scored.Select(a => a.Fixed is { } f ? (f ? 1.0 : 0.0) : (double?)null)],
            [MetricCatalog.FeedbackCorrectedF1] = [.. scored.Select(a => a.Scores?.F1)],
        };
        return (scored, perCase);
    }

    static FeedbackAnswer Judge(FeedbackCase feedbackCase, string model, string answer, double threshold)
    {
        double similarity = Similarity(answer, feedbackCase.RejectedAnswer);
        if (feedbackCase.Correction is { } correction)
        {
            var scores = AnswerMetrics.Score(answer, [correction]);
            return new(model, answer, null, $"F1 {ReportFormat.Number(scores.F1)} against the correction (trained on)", similarity, scores);
        }
        if (string.IsNullOrWhiteSpace(answer))
            return new(model, answer, false, "not fixed: empty answer", similarity, null);
        if (RefusalDetector.FindRefusal(answer) is { } phrase)
            return new(model, answer, false, $"not fixed: a refusal (\"{phrase}\")", similarity, null);
        if (similarity >= threshold)
            return new(model, answer, false, $"not fixed: near-duplicate of the rejected answer (similarity {ReportFormat.Number(similarity)})", similarity, null);
        return new(model, answer, true, $"fixed: differs from the rejected answer (similarity {ReportFormat.Number(similarity)})", similarity, null);
    }

    /// <summary>Estimated Jaccard similarity of the two texts' word shingles; 0 when either has no words.</summary>
    public static double Similarity(string a, string b) =>
        MinHasher.Signature([a]) is { } x && MinHasher.Signature([b]) is { } y ? Math.Round(MinHasher.Similarity(x, y), 3) : 0;

    public static FeedbackReport Report(FeedbackSuite suite, IReadOnlyList<IReadOnlyList<FeedbackAnswer>> byModel) => new(
        suite.Source, suite.Threshold,
        suite.Cases.Count(c => c.Correction is null), suite.Cases.Count(c => c.Correction is not null),
        [.. suite.Cases.Select((c, i) => new FeedbackCaseReport(c.Id, c.Version, MessageList.LastUserText(c.Messages), c.RejectedAnswer,
            c.Correction, c.Comment, [.. byModel.Select(answers => answers[i])]))]);
}
