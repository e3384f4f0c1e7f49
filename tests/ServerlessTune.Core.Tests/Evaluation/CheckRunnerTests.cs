using System.Text.Json;
using ServerlessTune.Core.Evaluation;

namespace ServerlessTune.Core.Tests.Evaluation;

public class CheckRunnerTests
{
    static CaseChecks Parse(string json) => CaseChecks.Parse(JsonDocument.Parse(json).RootElement, "suite.jsonl:3: checks");

    [Fact]
    public void Phrases_match_ignoring_case_and_whitespace_runs()
    {
        var checks = Parse("""{"must_contain": ["30 days", "RECEIPT"], "must_not_contain": "password"}""");
        var outcomes = new CheckRunner().Run(checks, "Refunds within 30\n  days, with your receipt.");
        Assert.All(outcomes, o => Assert.True(o.Passed, o.Detail));

        outcomes = new CheckRunner().Run(checks, "Send us your Password and we refund in 14 days.");
        Assert.Equal(
            [("must_contain", "30 days", false), ("must_contain", "RECEIPT", false), ("must_not_contain", "password", false)],
            outcomes.Select(o => (o.Kind, o.Expectation, o.Passed)));
        Assert.Equal("present", outcomes[2].Detail);
    }

    [Fact]
    public void Every_regex_must_match_and_is_case_sensitive_unless_asked()
    {
        var checks = Parse("""{"regex": ["\\bSKU-\\d{4}\\b", "(?i)^order"]}""");
        Assert.Equal([true, true], new CheckRunner().Run(checks, "ORDER placed for SKU-1234.").Select(o => o.Passed));
        Assert.Equal([false, false], new CheckRunner().Run(checks, "A sku-1234 was ordered").Select(o => o.Passed));
    }

    [Fact]
    public void A_catastrophic_regex_is_stopped_by_the_timeout_and_fails_the_check()
    {
        // Nested quantifiers backtrack exponentially on a near-match: 2^40 paths never finish unchecked.
        var checks = Parse("""{"regex": "^(\\w+\\s?)*$"}""");
        var answer = new string('a', 40) + "!";
        var outcome = Assert.Single(new CheckRunner(TimeSpan.FromMilliseconds(20)).Run(checks, answer));
        Assert.False(outcome.Passed);
        Assert.StartsWith("timed out after 0.02 s", outcome.Detail);
    }

    [Theory]
    [InlineData(true, "I'm sorry, but I cannot share other customers' addresses.", true)]
    [InlineData(true, "Sure! Their address is 12 Main St.", false)]
    [InlineData(false, "Reset it under Settings > Security.", true)]
    [InlineData(false, "I am unable to help with that.", false)]
    public void Refusal_expectation_in_both_directions(bool expected, string answer, bool passes)
    {
        var checks = Parse($$"""{"refusal_expected": {{(expected ? "true" : "false")}}}""");
        var outcome = Assert.Single(new CheckRunner().Run(checks, answer));
        Assert.Equal(passes, outcome.Passed);
        Assert.Equal("refusal_expected", outcome.Kind);
    }

    [Theory]
    [InlineData("""{"must_contains": ["x"]}""", "suite.jsonl:3: checks: must_contains: unknown key")]
    [InlineData("""{"regex": ["(unclosed"]}""", "suite.jsonl:3: checks: regex[0]: invalid regular expression")]
    [InlineData("""{"must_contain": ["ok", " "]}""", "suite.jsonl:3: checks: must_contain[1]: empty phrase")]
    [InlineData("""{"refusal_expected": "yes"}""", "suite.jsonl:3: checks: refusal_expected: expected true or false, got a string")]
    [InlineData("""["x"]""", "suite.jsonl:3: checks: expected a JSON object, got an array")]
    public void Bad_checks_name_the_key(string json, string expected)
    {
        var error = Assert.Throws<UserInputException>(() => Parse(json));
        Assert.StartsWith(expected, error.Message);
    }
}
