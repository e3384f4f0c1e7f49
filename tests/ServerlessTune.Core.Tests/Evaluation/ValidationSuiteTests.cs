using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Evaluation;

namespace ServerlessTune.Core.Tests.Evaluation;

public class ValidationSuiteTests
{
    const string Validation = """
        {"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!","weight":0},{"role":"user","content":"Opening hours?"},{"role":"assistant","content":"9 to 5."}]}
        {"text":"A policy passage used for language-model training."}
        {"messages":[{"role":"user","content":"Anyone there?"}]}
        {"messages":[{"role":"user","content":"Price?"},{"role":"assistant","content":"10 EUR."},{"role":"user","content":"Thanks"}]}
        {"messages":[{"role":"user","content":"Ship to Norway?"},{"role":"assistant","content":"Yes."}]}
        """;

    [Fact]
    public void Each_conversation_becomes_its_history_and_last_assistant_turn()
    {
        var derived = ValidationSuite.Derive(new StringReader(Validation), "validation.jsonl");

        var cases = derived.Suite.Cases;
        Assert.Equal(["validation-1", "validation-4", "validation-5"], cases.Select(c => c.Id));
        Assert.Equal(
            [new ChatMessage("system", "Be brief."), new ChatMessage("user", "Hi"), new ChatMessage("assistant", "Hello!"), new ChatMessage("user", "Opening hours?")],
            cases[0].Messages);
        Assert.Equal(["9 to 5."], cases[0].References);
        // Turns after the last assistant turn are not part of the question.
        Assert.Equal([new ChatMessage("user", "Price?")], cases[1].Messages);
        Assert.Equal(["10 EUR."], cases[1].References);
        Assert.Equal([new SkippedRecord(2, "no messages (not a conversation)"), new SkippedRecord(3, "no assistant turn")], derived.Skipped);
    }

    [Fact]
    public void A_case_limit_keeps_the_first_cases_and_accounts_for_the_rest()
    {
        var derived = ValidationSuite.Derive(new StringReader(Validation), "validation.jsonl", maxCases: 1);
        Assert.Equal(["validation-1"], derived.Suite.Cases.Select(c => c.Id));
        Assert.Equal([2, 3, 4, 5], derived.Skipped.Select(s => s.Line));
        Assert.Equal("beyond the first 1 cases", derived.Skipped[2].Reason);
    }

    [Fact]
    public void Malformed_records_are_errors_with_line_and_key()
    {
        var error = Assert.Throws<UserInputException>(() => ValidationSuite.Derive(
            new StringReader("{\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":5}]}"), "validation.jsonl"));
        Assert.Equal("validation.jsonl:1: messages[1]: content: expected a string, got the number 5", error.Message);
    }

    [Fact]
    public void A_split_without_any_usable_conversation_is_an_error()
    {
        var error = Assert.Throws<UserInputException>(() => ValidationSuite.Derive(new StringReader("{\"text\":\"x\"}\n"), "validation.jsonl"));
        Assert.Equal("validation.jsonl: no record can be used as a question (skipped 1)", error.Message);
    }

    [Fact]
    public void A_missing_split_file_is_a_user_error()
    {
        var error = Assert.Throws<UserInputException>(() => ValidationSuite.Derive("/nonexistent/validation.jsonl"));
        Assert.StartsWith("/nonexistent/validation.jsonl: cannot read", error.Message);
    }
}
