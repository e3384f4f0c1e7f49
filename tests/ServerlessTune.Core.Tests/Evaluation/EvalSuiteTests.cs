using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Evaluation;

namespace ServerlessTune.Core.Tests.Evaluation;

public class EvalSuiteTests : IDisposable
{
    readonly TempDir _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void A_json_array_suite_reads_questions_conversations_checks_and_tags()
    {
        var path = _files.Write("suite.json", """
            [
              {"id": "refund", "question": "How long do refunds take?", "references": ["5 business days"], "tags": ["billing"]},
              {
                "id": "followup",
                "messages": [
                  {"role": "system", "content": "You are Acme support."},
                  {"role": "user", "content": "My router blinks red."},
                  {"role": "assistant", "content": "Is the cable plugged in?"},
                  {"role": "user", "content": "Yes."}
                ],
                "checks": {"must_contain": "restart", "refusal_expected": false}
              }
            ]
            """);

        var suite = EvalSuite.Load(path);

        Assert.Equal(["refund", "followup"], suite.Cases.Select(c => c.Id));
        Assert.Equal([new ChatMessage("user", "How long do refunds take?")], suite.Cases[0].Messages);
        Assert.Equal(["5 business days"], suite.Cases[0].References);
        Assert.True(suite.Cases[0].Checks.IsEmpty);
        Assert.Equal(["billing"], suite.Cases[0].Tags);
        Assert.Equal(4, suite.Cases[1].Messages.Count);
        Assert.Equal("Yes.", suite.Cases[1].Question);
        Assert.Equal(["restart"], suite.Cases[1].Checks.MustContain);
        Assert.False(suite.Cases[1].Checks.RefusalExpected);
    }

    [Fact]
    public void Jsonl_suites_read_the_same_cases()
    {
        var path = _files.Write("suite.jsonl", """
            {"id": "a", "question": "Q1?", "references": ["A1"]}

            {"id": "b", "question": "Q2?", "checks": {"regex": "\\d+"}}
            """);
        var suite = EvalSuite.Load(path);
        Assert.Equal(["a", "b"], suite.Cases.Select(c => c.Id));
        Assert.Equal(["\\d+"], suite.Cases[1].Checks.Regex);
    }

    [Theory]
    // Line numbers in a JSON array point at the line where the bad case starts.
    [InlineData("[\n {\"id\":\"a\",\"question\":\"q\",\"references\":[\"r\"]},\n {\"id\":\"b\",\"question\":\"q\"}\n]", "suite.json:3: the case has neither references nor checks")]
    [InlineData("[\n {\"id\":\"a\",\"question\":\"q\",\"references\":[\"r\"]},\n\n {\"id\":\"a\",\"question\":\"q2\",\"references\":[\"r\"]}\n]", "suite.json:4: id: duplicate id 'a' (first seen on line 2)")]
    [InlineData("[\n {\"id\":\"a\",\"question\":\"q\",\"refrences\":[\"r\"]}\n]", "suite.json:2: refrences: unknown key")]
    [InlineData("[\n {\"id\":\"a\",\"question\":\"q\",\"references\":[\"r\"]},\n {\"id\":\"b\" \"question\":\"q\"}\n]", "suite.json:3: invalid JSON")]
    [InlineData("[]", "suite.json: the suite has no cases")]
    [InlineData("[{\"id\":\"a\",\"references\":[\"r\"]}]", "suite.json:1: give exactly one of 'messages' or 'question'")]
    [InlineData("[{\"id\":\"a\",\"question\":\"q\",\"messages\":[],\"references\":[\"r\"]}]", "suite.json:1: give exactly one of 'messages' or 'question'")]
    [InlineData("[{\"id\":\"a\",\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":\"a\"}],\"references\":[\"r\"]}]", "suite.json:1: messages: the conversation must end with a user turn")]
    [InlineData("[{\"id\":\"a\",\"messages\":[{\"role\":\"customer\",\"content\":\"q\"}],\"references\":[\"r\"]}]", "suite.json:1: messages[0]: role: 'customer' is not one of system, user, assistant")]
    [InlineData("[{\"id\":\"a\",\"messages\":[{\"role\":\"user\"}],\"references\":[\"r\"]}]", "suite.json:1: messages[0]: content: missing")]
    [InlineData("[{\"id\":\" \",\"question\":\"q\",\"references\":[\"r\"]}]", "suite.json:1: id: empty")]
    [InlineData("[{\"id\":\"a\",\"question\":\"q\",\"references\":[\"r\"],\"tags\":[1]}]", "suite.json:1: tags[0]: expected a string")]
    [InlineData("[{\"id\":\"a\",\"question\":\"q\",\"references\":[\"r\"]}] extra", "suite.json:1: invalid JSON: 'e' is invalid after a single JSON value")]
    public void Bad_suites_name_file_line_and_key(string content, string expected)
    {
        var path = _files.Write("suite.json", content);
        var error = Assert.Throws<UserInputException>(() => EvalSuite.Load(path));
        Assert.StartsWith(Path.Combine(_files.Path, expected), error.Message);
    }

    [Fact]
    public void A_bad_jsonl_line_is_named()
    {
        var path = _files.Write("suite.jsonl", "{\"id\":\"a\",\"question\":\"q\",\"references\":[\"r\"]}\nnot json\n");
        var error = Assert.Throws<UserInputException>(() => EvalSuite.Load(path));
        Assert.StartsWith($"{path}:2: invalid JSON", error.Message);
    }

    [Fact]
    public void A_bom_and_crlf_line_ends_do_not_shift_line_numbers()
    {
        var path = Path.Combine(_files.Path, "suite.json");
        File.WriteAllText(path, "\uFEFF[\r\n {\"id\":\"a\",\"question\":\"q\",\"references\":[\"r\"]},\r\n {\"id\":\"b\",\"question\":\"q\"}\r\n]\r\n");
        var error = Assert.Throws<UserInputException>(() => EvalSuite.Load(path));
        Assert.StartsWith($"{path}:3: the case has neither references nor checks", error.Message);
    }
}
