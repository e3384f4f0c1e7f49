using ServerlessTune.Core.Evaluation;

namespace ServerlessTune.Core.Tests.Evaluation;

public class DialogueScriptTests
{
    [Fact]
    public void Reads_jsonl_and_json_arrays()
    {
        var lines = DialogueScript.Parse(new StringReader("""
            {"id": "a", "system": "Be brief.", "turns": ["Hi", "Bye"]}

            {"id": "b", "turns": "Only one"}
            """), "d.jsonl");
        Assert.Equal(2, lines.Count);
        Assert.Equal(new[] { "Hi", "Bye" }, lines[0].Turns);
        Assert.Equal("Be brief.", lines[0].System);
        Assert.Null(lines[1].System);
        Assert.Equal(new[] { "Only one" }, lines[1].Turns);

        var array = DialogueScript.Parse(new StringReader("[\n {\"id\": \"x\", \"turns\": [\"Hello\"]}\n]"), "d.json");
        Assert.Equal("x", Assert.Single(array).Id);
    }

    [Theory]
    [InlineData("{\"id\": \"a\"}", "d.jsonl:1: turns: missing")]
    [InlineData("{\"id\": \"a\", \"turns\": []}", "d.jsonl:1: turns: empty (a dialogue needs at least one user turn)")]
    [InlineData("{\"id\": \"a\", \"turns\": [\"ok\", \" \"]}", "d.jsonl:1: turns[1]: empty")]
    [InlineData("{\"id\": \"a\", \"turns\": [\"ok\", 3]}", "d.jsonl:1: turns[1]: expected a string, got the number 3")]
    [InlineData("{\"id\": \"a\", \"turns\": [\"ok\"], \"turn\": 1}", "d.jsonl:1: turn: unknown key (expected one of: id, system, turns)")]
    [InlineData("{\"id\": \"a\", \"turns\": [\"ok\"]}\n{\"id\": \"a\", \"turns\": [\"again\"]}", "d.jsonl:2: id: duplicate id 'a' (first seen on line 1)")]
    [InlineData("\n", "d.jsonl: no dialogues")]
    public void Bad_scripts_are_rejected_naming_line_and_key(string text, string message)
    {
        var ex = Assert.Throws<UserInputException>(() => DialogueScript.Parse(new StringReader(text), "d.jsonl"));
        Assert.Equal(message, ex.Message);
    }
}
