using System.Text.Json;
using ServerlessTune.Core.Evaluation;

namespace ServerlessTune.Core.Tests.Evaluation;

/// <summary>Suite cases and dialogues whose questions are in the training data, found, scored apart and held to the gate.</summary>
public class ContaminationTests
{
    static string Line(string question, string answer) => JsonSerializer.Serialize(new
    {
        messages = new[] { new { role = "user", content = question }, new { role = "assistant", content = answer } },
    });

    static string Train(TempDir files) => files.Write("train.jsonl", string.Join("\n",
        Line("How do I restart my Harbor Fiber router?", "Unplug it for 30 seconds."),
        Line("What does a blinking orange light on the router mean?", "No fiber signal."),
        Line("Is there a cancellation fee?", "None after 12 months."),
        """{"messages":[{"role":"assistant","content":"Harbor Fiber monitors every line. Is there a cancellation fee? Read on."}],"kind":"passage"}""") + "\n");

    static EvalSuite Suite() => EvalSuite.Parse(new StringReader(string.Join("\n",
        """{"id": "verbatim", "question": "How do I restart my Harbor Fiber router?", "references": ["Unplug it for 30 seconds."]}""",
        """{"id": "recased", "question": "what does a BLINKING orange light on the router mean??", "references": ["No fiber signal."]}""",
        """{"id": "paraphrase", "question": "My box keeps flashing amber, is the line down?", "references": ["No fiber signal."]}""",
        """{"id": "new", "question": "Can I keep my old phone number?", "references": ["Yes, we port it for free."]}""")), "suite.jsonl");

    [Fact]
    public void Questions_found_in_training_user_turns_are_contaminated_and_paraphrases_are_clean()
    {
        using var files = new TempDir();
        var dialogues = DialogueScript.Parse(new StringReader(string.Join("\n",
            """{"id": "seen", "turns": ["Hello", "Is there a cancellation fee?"]}""",
            """{"id": "unseen", "turns": ["My bill doubled this month, why?"]}""")), "dialogues.jsonl");

        var report = ContaminationCheck.Measure(Train(files), Suite(), dialogues, threshold: 0.8);

        Assert.Equal(3, report.TrainTurns); // the passage has no user turn
        Assert.Equal(new[] { ("verbatim", false, 1), ("recased", false, 2), ("seen", true, 3) }, report.Matches.Select(m => (m.Id, m.Dialogue, m.TrainLine)));
        Assert.All(report.Matches, m => Assert.InRange(m.Similarity, 0.8, 1));
        Assert.Equal((2, 4, 1, 2), (report.ContaminatedCases, report.SuiteCases, report.ContaminatedDialogues, report.Dialogues));
    }

    [Fact]
    public void The_report_scores_clean_and_contaminated_cases_apart_and_the_gate_can_hold_the_clean_ones()
    {
        using var files = new TempDir();
        var suite = Suite();
        var contamination = ContaminationCheck.Measure(Train(files), suite, null, 0.8);
        // The candidate recites the training answers and knows nothing else: perfect on contaminated cases, zero on clean ones.
        var models = new[]
        {
            new ModelOutputs("base", "base", Answers: suite.Cases.ToDictionary(c => c.Id, _ => "I do not know.")),
            new ModelOutputs("candidate", "run", Answers: new Dictionary<string, string>
            {
                ["verbatim"] = "Unplug it for 30 seconds.", ["recased"] = "No fiber signal.", ["paraphrase"] = "Unplug it for 30 seconds.", ["new"] = "Unplug it.",
            }),
        };
        var gate = GateOptions.Parse(JsonDocument.Parse("""
            {"rules": [
              {"metric": "f1", "op": ">=", "relative_to": "base"},
              {"metric": "f1", "subset": "clean", "op": ">=", "value": 0.5}
            ]}
            """).RootElement, "gate.json");

        var report = new EvaluationService(new EvaluationOptions()).Evaluate("r1", suite, models, "candidate", gate, contamination: contamination);

        var subsets = report.Contamination!.Subsets;
        Assert.Equal([("clean", "base", 2), ("clean", "candidate", 2), ("contaminated", "base", 2), ("contaminated", "candidate", 2)],
            subsets.Select(s => (s.Tag, s.Model, s.Cases)));
        Assert.Equal(1, subsets.Single(s => s.Tag == "contaminated" && s.Model == "candidate").Metrics["f1"].Value, 12);
        Assert.True(subsets.Single(s => s.Tag == "clean" && s.Model == "candidate").Metrics["f1"].Value < 0.5);
        Assert.Equal(RuleStatus.Passed, report.Gate!.Rules[0].Status);
        Assert.Equal(RuleStatus.Failed, report.Gate.Rules[1].Status);
        Assert.StartsWith("failed: candidate f1 (clean cases) ", report.Gate.Rules[1].Message);

        string md = MarkdownReport.Render(report);
        Assert.Contains("2 of 4 suite cases and 0 of 0 dialogues ask a question that is in the training data", md);
        Assert.Contains("- contaminated cases: `recased`, `verbatim`", md);
        Assert.Contains("- clean cases: `paraphrase`, `new`", md);
        Assert.Contains("| clean | 2 | f1 |", md);
        string html = HtmlReport.Render(report);
        Assert.Contains("id=\"contamination-subsets\"", html);
        Assert.Contains("Clean cases: paraphrase, new", html);
        string json = ReportJson.Serialize(report);
        Assert.Equal(json, ReportJson.Serialize(ReportJson.Deserialize(json, "report.json")));
        Assert.Contains("\"contamination\": {", json);
    }

    [Fact]
    public void A_rule_on_a_subset_fails_when_contamination_was_not_measured_and_subsets_only_take_suite_metrics()
    {
        var gate = GateOptions.Parse(JsonDocument.Parse("""{"rules": [{"metric": "f1", "subset": "clean", "op": ">=", "value": 0.1}]}""").RootElement, "gate.json");
        var result = QualityGate.Evaluate(gate, [new ModelReport("candidate", "run", new Dictionary<string, MetricValue> { ["f1"] = new(0.9, 4) })]);
        Assert.Equal(RuleStatus.Failed, result.Rules[0].Status);
        Assert.Contains("contamination was not measured", result.Rules[0].Message);

        var error = Assert.Throws<UserInputException>(() => GateOptions.Parse(
            JsonDocument.Parse("""{"rules": [{"metric": "perplexity", "subset": "clean", "op": "<=", "value": 9}]}""").RootElement, "gate.json"));
        Assert.Equal("gate.json: rules[0]: subset: applies to suite metrics, not to perplexity (measured over the validation split)", error.Message);
        var unknown = Assert.Throws<UserInputException>(() => GateOptions.Parse(
            JsonDocument.Parse("""{"rules": [{"metric": "f1", "subset": "dirty", "op": ">=", "value": 0}]}""").RootElement, "gate.json"));
        Assert.Contains("'dirty' is not one of clean, contaminated", unknown.Message);
    }
}
