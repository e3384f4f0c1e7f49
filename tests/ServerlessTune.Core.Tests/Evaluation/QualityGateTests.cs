using System.Text.Json;
using ServerlessTune.Core.Evaluation;

namespace ServerlessTune.Core.Tests.Evaluation;

public class QualityGateTests
{
    const string Rules = """
        {"mode": "enforce", "rules": [
          {"metric": "perplexity", "model": "candidate", "op": "<=", "relative_to": "base", "factor": 0.9},
          {"metric": "exact_match", "op": ">=", "relative_to": "production", "offset": -0.01},
          {"metric": "must_not_contain_violations", "op": "==", "value": 0}
        ]}
        """;

    static GateOptions Parse(string json) => GateOptions.Parse(JsonDocument.Parse(json).RootElement, "gate.json");

    static ModelReport Model(string name, params (string Metric, double Value)[] metrics) =>
        new(name, name, metrics.ToDictionary(m => m.Metric, m => new MetricValue(m.Value, 10)));

    [Fact]
    public void Rules_parse_with_defaults()
    {
        var gate = Parse(Rules);
        Assert.Equal(GateMode.Enforce, gate.Mode);
        Assert.Equal(new GateRule("perplexity", "candidate", "<=", null, "base", 0.9, 0), gate.Rules[0]);
        Assert.Equal(new GateRule("exact_match", "candidate", ">=", null, "production", 1, -0.01), gate.Rules[1]);
        Assert.Equal(new GateRule("must_not_contain_violations", "candidate", "==", 0, null, 1, 0), gate.Rules[2]);
        Assert.Equal("candidate exact_match >= production exact_match - 0.01", gate.Rules[1].Describe());
        Assert.Equal(GateMode.Advisory, Parse("""{"mode":"advisory","rules":[]}""").Mode);
    }

    [Fact]
    public void A_good_candidate_passes_every_rule()
    {
        var result = QualityGate.Evaluate(Parse(Rules), [
            Model("base", ("perplexity", 20)),
            Model("candidate", ("perplexity", 12), ("exact_match", 0.5), ("must_not_contain_violations", 0)),
            Model("production", ("exact_match", 0.505)),
        ]);
        Assert.True(result.Passed);
        Assert.All(result.Rules, r => Assert.Equal(RuleStatus.Passed, r.Status));
        Assert.Equal("passed: candidate perplexity 12 is <= 18 (0.9 x base perplexity, where base perplexity = 20)", result.Rules[0].Message);
        Assert.Equal(0.495, result.Rules[1].Threshold!.Value, 12);
        Assert.Equal("gate passed (enforce): 3 passed, 0 failed, 0 skipped of 3 rules", result.Summary());
    }

    [Fact]
    public void A_bad_candidate_fails_with_every_failed_rule_and_its_numbers()
    {
        var result = QualityGate.Evaluate(Parse(Rules), [
            Model("base", ("perplexity", 20)),
            Model("candidate", ("perplexity", 19.5), ("exact_match", 0.42), ("must_not_contain_violations", 2)),
            Model("production", ("exact_match", 0.45)),
        ]);
        Assert.False(result.Passed);
        Assert.Equal(
            [
                "failed: candidate perplexity 19.5 is not <= 18 (0.9 x base perplexity, where base perplexity = 20)",
                "failed: candidate exact_match 0.42 is not >= 0.44 (production exact_match - 0.01, where production exact_match = 0.45)",
                "failed: candidate must_not_contain_violations 2 is not == 0",
            ],
            result.Rules.Select(r => r.Message));
        Assert.Equal((19.5, 18.0), (result.Rules[0].Actual!.Value, result.Rules[0].Threshold!.Value));
    }

    [Fact]
    public void A_rule_relative_to_an_absent_model_is_skipped_not_passed()
    {
        var result = QualityGate.Evaluate(Parse(Rules), [
            Model("base", ("perplexity", 20)),
            Model("candidate", ("perplexity", 10), ("exact_match", 0.1), ("must_not_contain_violations", 0)),
        ]);
        Assert.True(result.Passed);
        Assert.Equal(RuleStatus.Skipped, result.Rules[1].Status);
        Assert.Equal("skipped: candidate exact_match >= production exact_match - 0.01: no model 'production' was evaluated", result.Rules[1].Message);
        Assert.Equal("gate passed (enforce): 2 passed, 0 failed, 1 skipped of 3 rules", result.Summary());
    }

    [Fact]
    public void A_metric_the_candidate_lacks_fails_the_rule()
    {
        var result = QualityGate.Evaluate(Parse(Rules), [Model("base", ("perplexity", 20)), Model("candidate", ("exact_match", 1))]);
        Assert.False(result.Passed);
        Assert.Equal("failed: candidate perplexity <= 0.9 x base perplexity: candidate has no perplexity (it was not measured)", result.Rules[0].Message);
    }

    [Fact]
    public void A_diverged_candidate_fails_a_perplexity_rule()
    {
        var gate = Parse("""{"rules":[{"metric":"perplexity","op":"<=","relative_to":"base"}]}""");
        var result = QualityGate.Evaluate(gate, [Model("base", ("perplexity", 20)), Model("candidate", ("perplexity", double.NaN))]);
        Assert.Equal(RuleStatus.Failed, Assert.Single(result.Rules).Status);
    }

    [Theory]
    [InlineData("""{"rules":[{"metric":"perplexity","op":"=>","value":1}]}""", "gate.json: rules[0]: op: '=>' is not one of < <= > >= ==")]
    [InlineData("""{"rules":[{"metric":"perplexity","op":"<=","value":1},{"metric":"accuracy","op":"<=","value":1}]}""", "gate.json: rules[1]: metric: unknown metric 'accuracy'")]
    [InlineData("""{"rules":[{"metric":"f1","op":">=","value":0.5,"relative_to":"base"}]}""", "gate.json: rules[0]: give exactly one of 'value' or 'relative_to'")]
    [InlineData("""{"rules":[{"metric":"f1","op":">="}]}""", "gate.json: rules[0]: give exactly one of 'value' or 'relative_to'")]
    [InlineData("""{"rules":[{"metric":"f1","op":">=","value":0.5,"factor":2}]}""", "gate.json: rules[0]: factor: only applies with 'relative_to'")]
    [InlineData("""{"rules":[{"metric":"f1","op":">=","relative_to":"base","factor":"2"}]}""", "gate.json: rules[0]: factor: expected a finite number, got a string")]
    [InlineData("""{"rules":[{"metric":"f1","op":">=","relative_to":"candidate"}]}""", "gate.json: rules[0]: relative_to: the rule compares 'candidate' with itself")]
    [InlineData("""{"rules":[{"metric":"f1","op":">=","value":1,"treshold":2}]}""", "gate.json: rules[0]: treshold: unknown key")]
    [InlineData("""{"mode":"strict","rules":[]}""", "gate.json: mode: 'strict' is not one of enforce, advisory, manual")]
    [InlineData("""{"mode":"enforce"}""", "gate.json: rules: missing")]
    [InlineData("""{"rules":{}}""", "gate.json: rules: expected an array, got an object")]
    [InlineData("""[]""", "gate.json: expected a JSON object, got an array")]
    public void Bad_configuration_names_the_key(string json, string expected)
    {
        var error = Assert.Throws<UserInputException>(() => Parse(json));
        Assert.StartsWith(expected, error.Message);
    }

    [Fact]
    public void Gate_files_report_bad_json_with_its_line_and_missing_files_by_name()
    {
        using var files = new TempDir();
        var path = files.Write("gate.json", "{\n  \"rules\": [\n    {\"metric\": \"f1\" \"op\": \">=\"}\n  ]\n}");
        Assert.Equal($"{path}:3: invalid JSON", Assert.Throws<UserInputException>(() => GateOptions.Load(path)).Message);
        var missing = Path.Combine(files.Path, "none.json");
        Assert.StartsWith($"{missing}: cannot read", Assert.Throws<UserInputException>(() => GateOptions.Load(missing)).Message);
    }
}
