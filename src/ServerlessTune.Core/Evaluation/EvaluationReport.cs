using ServerlessTune.Core.Chat;

namespace ServerlessTune.Core.Evaluation;

/// <summary>A figure with its sample size (cases or tokens) and, for suite means, its bootstrap interval.</summary>
public sealed record MetricValue(double Value, long N, double? Low = null, double? High = null);

/// <summary>One evaluated model: its name in the comparison (base, candidate, production...) and where it came from.</summary>
public sealed record ModelReport(string Name, string Source, IReadOnlyDictionary<string, MetricValue> Metrics);

/// <summary>
/// Model minus Reference for one metric. For suite means, Low/High bound the paired-bootstrap interval of
/// the delta and Wins/Losses/Ties compare the two models case by case (a win is better for Model in the
/// metric's own direction). Improved is null when the values are equal.
/// </summary>
public sealed record MetricDelta(
    string Metric, string Model, string Reference, double Delta, double? Relative,
    bool? Improved, double? Low = null, double? High = null, int? Wins = null, int? Losses = null, int? Ties = null);

/// <summary>One model's answer to a case: scores when the case has references, and its check outcomes.</summary>
public sealed record ModelAnswer(string Model, string Answer, AnswerScores? Scores, IReadOnlyList<CheckOutcome> Checks)
{
    public int FailedChecks => Checks.Count(c => !c.Passed);
}

public sealed record CaseReport(
    string Id, IReadOnlyList<ChatMessage> Messages, IReadOnlyList<string> References, IReadOnlyList<string> Tags,
    IReadOnlyList<ModelAnswer> Answers)
{
    public string Question => MessageList.LastUserText(Messages);
}

/// <summary>One model's suite metrics over the cases carrying a tag.</summary>
public sealed record TagSummary(string Tag, string Model, int Cases, IReadOnlyDictionary<string, MetricValue> Metrics);

/// <summary>A scripted conversation as one model played it.</summary>
public sealed record DialogueTranscript(string Id, string Model, IReadOnlyList<ChatMessage> Messages);

/// <summary>
/// Everything an evaluation found, serialised as report.json and rendered as report.md and report.html. Contamination
/// is there when the training set was given to compare the questions with; Feedback when the run's feedback cases were played.
/// </summary>
public sealed record EvaluationReport(
    string RunId,
    string Candidate,
    string? SuiteSource,
    IReadOnlyList<ModelReport> Models,
    IReadOnlyList<MetricDelta> Deltas,
    IReadOnlyList<CaseReport> Cases,
    IReadOnlyList<TagSummary> ByTag,
    IReadOnlyList<string> WorstCaseIds,
    IReadOnlyList<DialogueTranscript> Dialogues,
    GateResult? Gate,
    TrainingCurve? Training,
    IReadOnlyDictionary<string, string> Settings)
{
    public ContaminationReport? Contamination { get; init; }
    public FeedbackReport? Feedback { get; init; }
}
