using System.Text.Json;
using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Feedback;

namespace ServerlessTune.Core.Tests.Evaluation;

/// <summary>The feedback cases in the evaluation: what "fixed" means, the metrics, the report's sections and the gate.</summary>
public sealed class FeedbackEvaluationTests
{
    const string Rejected = "Please restart the router and wait five minutes before you call us again.";
    const string Correction = "A red light means no signal: check that the fiber cable is plugged in.";

    static FeedbackCase Case(string id, string question, string? correction = null) =>
        new(id, "v1", [new ChatMessage(ChatMessage.User, question)], Rejected, correction is null ? "wrong" : null, correction);

    static readonly FeedbackSuite Suite = new("feedback_cases.jsonl",
    [
        Case("same", "Can I get a refund?"),
        Case("empty", "Do you sell routers?"),
        Case("refused", "Why is my bill higher?"),
        Case("new", "How do I pay?"),
        Case("corrected", "Why is my light red?", Correction),
    ], Threshold: 0.8);

    static readonly Dictionary<string, string> CandidateAnswers = new()
    {
        ["same"] = "Please restart the router and wait five minutes before you call us again!",
        ["empty"] = "  ",
        ["refused"] = "I'm sorry, I cannot help with billing questions.",
        ["new"] = "You can pay by card or bank transfer on the billing page of your account.",
        ["corrected"] = Correction,
    };

    // Production is the version users rejected: it answers as it did.
    static readonly Dictionary<string, string> ProductionAnswers = Suite.Cases.ToDictionary(c => c.Id, _ => Rejected);

    [Fact]
    public void An_answer_is_fixed_only_when_it_is_not_empty_not_a_refusal_and_not_a_near_duplicate_of_the_rejected_one()
    {
        var (answers, perCase) = FeedbackScoring.Score(Suite, "candidate", CandidateAnswers);

        Assert.Equal(new bool?[] { false, false, false, true, null }, answers.Select(a => a.Fixed));
        Assert.StartsWith("not fixed: near-duplicate of the rejected answer (similarity ", answers[0].Verdict);
        Assert.True(answers[0].Similarity >= 0.8, $"similarity {answers[0].Similarity}");
        Assert.Equal("not fixed: empty answer", answers[1].Verdict);
        Assert.Equal("not fixed: a refusal (\"i can't help\")", answers[2].Verdict);
        Assert.True(answers[3].Similarity < 0.8);
        // A corrected case is scored against its correction, which was trained on.
        Assert.Equal(1.0, answers[4].Scores!.F1);
        Assert.Equal("F1 1 against the correction (trained on)", answers[4].Verdict);
        Assert.Equal(new double?[] { 0, 0, 0, 1, null }, perCase[MetricCatalog.FeedbackFixed]);
        Assert.Equal(new double?[] { null, null, null, null, 1 }, perCase[MetricCatalog.FeedbackCorrectedF1]);

        var missing = new Dictionary<string, string>(CandidateAnswers);
        missing.Remove("new");
        Assert.Contains("'new'", Assert.Throws<ArgumentException>(() => FeedbackScoring.Score(Suite, "candidate", missing)).Message);
    }

    [Fact]
    public void The_report_shows_the_rejected_and_corrected_cases_and_the_gate_can_require_fixes()
    {
        var gate = GateOptions.Parse(JsonDocument.Parse("""
            {"rules": [ {"metric": "feedback_fixed", "op": ">=", "value": 0.5},
                        {"metric": "feedback_fixed", "op": ">", "relative_to": "production"},
                        {"metric": "feedback_corrected_f1", "op": ">=", "value": 0.9} ]}
            """).RootElement, "gate");
        var report = Evaluate(Suite, gate);

        var candidate = report.Models.Single(m => m.Name == "candidate").Metrics;
        Assert.Equal((0.25, 4L), (candidate[MetricCatalog.FeedbackFixed].Value, candidate[MetricCatalog.FeedbackFixed].N));
        Assert.NotNull(candidate[MetricCatalog.FeedbackFixed].Low);
        Assert.Equal(1.0, candidate[MetricCatalog.FeedbackCorrectedF1].Value);
        Assert.Equal(0.0, report.Models.Single(m => m.Name == "production").Metrics[MetricCatalog.FeedbackFixed].Value);
        // Paired case by case against production: one win, three ties.
        var delta = report.Deltas.Single(d => d.Metric == MetricCatalog.FeedbackFixed && d.Reference == "production");
        Assert.Equal((1, 0, 3), (delta.Wins, delta.Losses, delta.Ties));
        Assert.Equal([RuleStatus.Failed, RuleStatus.Passed, RuleStatus.Passed], report.Gate!.Rules.Select(r => r.Status));
        Assert.Equal((4, 1), (report.Feedback!.Rejected, report.Feedback.Corrected));

        var md = MarkdownReport.Render(report);
        Assert.Contains("### Feedback cases", md);
        Assert.Contains("Corrected (trained on):", md);
        Assert.Contains("| feedback_fixed |", md);
        var html = HtmlReport.Render(report);
        Assert.Contains("<table id=\"feedback-fixed\">", html);
        Assert.Contains("<table id=\"feedback-corrected\">", html);
        Assert.Contains("fixed: differs from the rejected answer", html);
        Assert.Contains(System.Net.WebUtility.HtmlEncode(Correction), html);
        Assert.Contains("How do I pay?", html);
        string json = ReportJson.Serialize(report);
        Assert.Equal(json, ReportJson.Serialize(ReportJson.Deserialize(json, "report.json")));
    }

    [Fact]
    public void A_rule_on_feedback_is_skipped_when_there_is_nothing_to_fix()
    {
        var gate = GateOptions.Parse(JsonDocument.Parse("""{"rules": [ {"metric": "feedback_fixed", "op": ">=", "value": 0.5} ]}""").RootElement, "gate");
        var corrected = Suite with { Cases = [Suite.Cases[^1]] };
        var report = Evaluate(corrected, gate);
        var rule = Assert.Single(report.Gate!.Rules);
        Assert.Equal(RuleStatus.Skipped, rule.Status);
        Assert.Contains("no rated-down answers without a correction", rule.Message);
        Assert.True(report.Gate.Passed);
        Assert.Contains("No feedback cases", FeedbackSection.Summary(new FeedbackReport("f", 0.8, 0, 0, [])));
    }

    [Fact]
    public void The_case_file_reads_back_what_preparation_wrote_and_names_a_bad_line()
    {
        using var dir = new TempDir();
        string path = dir.File("feedback_cases.jsonl");
        File.WriteAllText(path, FeedbackCaseFile.Serialize(Suite.Cases));
        Assert.Equal(JsonSerializer.Serialize(Suite.Cases), JsonSerializer.Serialize(FeedbackCaseFile.Load(path)));
        File.AppendAllText(path, "{\"id\": \"x\"}\n");
        var error = Assert.Throws<UserInputException>(() => FeedbackCaseFile.Load(path));
        Assert.StartsWith($"{path}:6: not a feedback case", error.Message);
    }

    static EvaluationReport Evaluate(FeedbackSuite suite, GateOptions gate)
    {
        ModelOutputs Model(string name, IReadOnlyDictionary<string, string> answers) =>
            new(name, name, FeedbackAnswers: suite.Cases.ToDictionary(c => c.Id, c => answers[c.Id]));
        return new EvaluationService(new EvaluationOptions { Resamples = 200 })
            .Evaluate("r1", null, [Model("candidate", CandidateAnswers), Model("production", ProductionAnswers)], "candidate", gate, feedback: suite);
    }
}
