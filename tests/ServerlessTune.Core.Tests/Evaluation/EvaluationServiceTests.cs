using ServerlessTune.Core.Evaluation;

namespace ServerlessTune.Core.Tests.Evaluation;

public class EvaluationServiceTests
{
    static MetricValue Metric(EvaluationReport report, string model, string metric) => report.Models.Single(m => m.Name == model).Metrics[metric];

    static MetricDelta Delta(EvaluationReport report, string metric) => report.Deltas.Single(d => d.Metric == metric && d.Reference == "base");

    [Fact]
    public void Suite_metrics_are_means_over_the_cases_they_apply_to()
    {
        var report = SampleEvaluation.Report();
        // Cases with references: c1, c2, c4. Base EM 0,0,1; candidate 1,1,0. Candidate F1 1, 1, 3/4 ("open 9 to 6" vs "open 9 to 5").
        Assert.Equal((1.0 / 3, 3L), (Metric(report, "base", "exact_match").Value, Metric(report, "base", "exact_match").N));
        Assert.Equal(2.0 / 3, Metric(report, "candidate", "exact_match").Value, 12);
        Assert.Equal(2.75 / 3, Metric(report, "candidate", "f1").Value, 12);
        // Checks on c1 and c3: the base fails both, the candidate passes both.
        Assert.Equal(new MetricValue(0, 2, 0, 0), Metric(report, "base", "check_pass_rate"));
        Assert.Equal(new MetricValue(1, 2, 1, 1), Metric(report, "candidate", "check_pass_rate"));
        Assert.Equal(new MetricValue(1, 1), Metric(report, "base", "must_not_contain_violations"));
        Assert.Equal(new MetricValue(1, 1), Metric(report, "base", "refusal_mismatches"));
        Assert.Equal(new MetricValue(0, 1), Metric(report, "candidate", "must_contain_failures"));
        Assert.False(report.Models[1].Metrics.ContainsKey("regex_failures"));
    }

    [Fact]
    public void Language_model_metrics_come_from_token_sums()
    {
        var report = SampleEvaluation.Report();
        Assert.Equal(new MetricValue(2, 10), Metric(report, "base", "nll"));
        Assert.Equal(Math.Exp(2), Metric(report, "base", "perplexity").Value, 12);
        Assert.Equal(new MetricValue(2.5, 20), Metric(report, "base", "nll_all"));
        Assert.Equal(new MetricValue(0.6, 10), Metric(report, "candidate", "top1_accuracy"));
    }

    [Fact]
    public void Intervals_bracket_the_mean_and_carry_the_sample_size()
    {
        var f1 = Metric(SampleEvaluation.Report(), "candidate", "f1");
        Assert.Equal(3, f1.N);
        Assert.InRange(f1.Value, f1.Low!.Value, f1.High!.Value);
        Assert.Equal(1, f1.High!.Value, 12); // every resample of {1, 1, 0.75} has a mean of at most 1
        Assert.True(f1.Low < 1);
    }

    [Fact]
    public void Deltas_compare_the_candidate_case_by_case()
    {
        var report = SampleEvaluation.Report();
        var exact = Delta(report, "exact_match");
        Assert.Equal(1.0 / 3, exact.Delta, 12);
        Assert.Equal(1.0, exact.Relative!.Value, 12);
        Assert.True(exact.Improved);
        Assert.Equal((2, 1, 0), (exact.Wins!.Value, exact.Losses!.Value, exact.Ties!.Value));
        Assert.InRange(exact.Delta, exact.Low!.Value, exact.High!.Value);

        var perplexity = Delta(report, "perplexity");
        Assert.Equal(Math.E - Math.Exp(2), perplexity.Delta, 12);
        Assert.True(perplexity.Improved); // lower is better
        Assert.Null(perplexity.Wins);

        var violations = Delta(report, "must_not_contain_violations");
        Assert.Equal((-1.0, true, 1, 0, 0), (violations.Delta, violations.Improved!.Value, violations.Wins!.Value, violations.Losses!.Value, violations.Ties!.Value));
    }

    [Fact]
    public void Tags_slice_the_suite_metrics()
    {
        var byTag = SampleEvaluation.Report().ByTag;
        Assert.Equal([("billing", "base"), ("billing", "candidate"), ("safety", "base"), ("safety", "candidate")], byTag.Select(t => (t.Tag, t.Model)));
        Assert.Equal(new MetricValue(0, 1, 0, 0), byTag[0].Metrics["f1"]);
        Assert.Equal(new MetricValue(1, 1, 1, 1), byTag[1].Metrics["f1"]);
        Assert.False(byTag[2].Metrics.ContainsKey("f1")); // c3 has checks only
        Assert.Equal(new MetricValue(1, 1), byTag[2].Metrics["must_not_contain_violations"]);
        Assert.Equal(new MetricValue(1, 1, 1, 1), byTag[3].Metrics["check_pass_rate"]);
    }

    [Fact]
    public void Worst_cases_list_only_imperfect_candidate_answers()
    {
        Assert.Equal(["c4"], SampleEvaluation.Report().WorstCaseIds);
    }

    [Fact]
    public void Gate_is_judged_on_the_report_metrics()
    {
        var gate = SampleEvaluation.Report().Gate!;
        Assert.True(gate.Passed);
        Assert.Equal([RuleStatus.Passed, RuleStatus.Skipped, RuleStatus.Passed], gate.Rules.Select(r => r.Status));
    }

    [Fact]
    public void The_same_inputs_give_the_same_report()
    {
        Assert.Equal(ReportJson.Serialize(SampleEvaluation.Report()), ReportJson.Serialize(SampleEvaluation.Report()));
    }

    [Fact]
    public void Answers_must_cover_exactly_the_suite()
    {
        var service = new EvaluationService(new EvaluationOptions());
        var partial = SampleEvaluation.Candidate() with { Answers = new Dictionary<string, string> { ["c1"] = "x" } };
        var error = Assert.Throws<ArgumentException>(() => service.Evaluate("r", SampleEvaluation.Suite(), [partial], "candidate"));
        Assert.StartsWith("model 'candidate' has no answer for case 'c2'", error.Message);
        Assert.Throws<ArgumentException>(() => service.Evaluate("r", SampleEvaluation.Suite(), [SampleEvaluation.Base()], "candidate"));
    }

    [Fact]
    public void A_diverged_candidate_shows_no_improvement_and_fails_the_gate()
    {
        var diverged = SampleEvaluation.Candidate() with { LanguageModel = new LanguageModelTotals(double.NaN, 10, 0, double.NaN, 20) };
        var report = new EvaluationService(new EvaluationOptions())
            .Evaluate("r", SampleEvaluation.Suite(), [SampleEvaluation.Base(), diverged], "candidate", SampleEvaluation.Gate());
        Assert.Null(Delta(report, "perplexity").Improved);
        Assert.False(report.Gate!.Passed);
        Assert.StartsWith("failed: candidate perplexity NaN is not <= 6.6502", report.Gate.Rules[0].Message);
    }
}
