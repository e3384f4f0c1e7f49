namespace ServerlessTune.Core.Evaluation;

public enum MetricKind
{
    /// <summary>Computed from the validation split by the model; N counts tokens.</summary>
    LanguageModel,
    /// <summary>A mean of per-case values in [0, 1] with a bootstrap interval; N counts cases.</summary>
    CaseMean,
    /// <summary>A number of cases with a violation; N counts the cases that had such a check.</summary>
    CaseCount,
    /// <summary>A mean over the feedback cases (served answers users rejected) with a bootstrap interval; N counts cases.</summary>
    FeedbackMean,
}

public sealed record MetricDefinition(string Name, MetricKind Kind, bool HigherIsBetter, string Description);

/// <summary>Every metric a report can hold; gate rules may only name these.</summary>
public static class MetricCatalog
{
    public const string Nll = "nll";
    public const string Perplexity = "perplexity";
    public const string NllAll = "nll_all";
    public const string PerplexityAll = "perplexity_all";
    public const string Top1Accuracy = "top1_accuracy";
    public const string ExactMatch = "exact_match";
    public const string F1 = "f1";
    public const string RougeL = "rouge_l";
    public const string CheckPassRate = "check_pass_rate";
    public const string MustContainFailures = "must_contain_failures";
    public const string MustNotContainViolations = "must_not_contain_violations";
    public const string RegexFailures = "regex_failures";
    public const string RefusalMismatches = "refusal_mismatches";
    public const string FeedbackFixed = "feedback_fixed";
    public const string FeedbackCorrectedF1 = "feedback_corrected_f1";

    public static readonly IReadOnlyList<MetricDefinition> All =
    [
        new(Nll, MetricKind.LanguageModel, false, "mean negative log-likelihood per assistant token (nats)"),
        new(Perplexity, MetricKind.LanguageModel, false, "exp(nll) over assistant tokens"),
        new(NllAll, MetricKind.LanguageModel, false, "mean negative log-likelihood per token, all tokens"),
        new(PerplexityAll, MetricKind.LanguageModel, false, "exp(nll_all)"),
        new(Top1Accuracy, MetricKind.LanguageModel, true, "next-token top-1 accuracy on assistant tokens"),
        new(ExactMatch, MetricKind.CaseMean, true, "answers equal to a reference after SQuAD normalisation"),
        new(F1, MetricKind.CaseMean, true, "token F1 against the best reference (SQuAD)"),
        new(RougeL, MetricKind.CaseMean, true, "ROUGE-L F1 against the best reference"),
        new(CheckPassRate, MetricKind.CaseMean, true, "cases whose checks all pass"),
        new(MustContainFailures, MetricKind.CaseCount, false, "cases missing a required phrase"),
        new(MustNotContainViolations, MetricKind.CaseCount, false, "cases containing a forbidden phrase"),
        new(RegexFailures, MetricKind.CaseCount, false, "cases not matching a required pattern"),
        new(RefusalMismatches, MetricKind.CaseCount, false, "cases refused when they should be answered, or the reverse"),
        new(FeedbackFixed, MetricKind.FeedbackMean, true,
            "rated-down served answers nobody corrected that the model now answers otherwise: not empty, not a refusal, not a near-duplicate of the rejected answer"),
        new(FeedbackCorrectedF1, MetricKind.FeedbackMean, true,
            "token F1 against users' corrections of served answers (the corrections are trained on: this measures learning them, not generalisation)"),
    ];

    public static MetricDefinition? Find(string name) => All.FirstOrDefault(m => m.Name == name);

    public static MetricDefinition Get(string name) => Find(name) ?? throw new ArgumentException($"unknown metric '{name}'", nameof(name));
}
