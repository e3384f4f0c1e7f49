using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Training;

namespace ServerlessTune.Core.Tests.Training;

public class PreparedChatFileTests
{
    [Fact]
    public void Reads_messages_with_weights_and_line_numbers()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("train.jsonl"),
            """
            {"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello","weight":0},{"role":"user","content":"Reset?"},{"role":"assistant","content":"Hold the button.","weight":1}]}

            {"messages":[{"role":"user","content":"Q"},{"role":"assistant","content":"A"}]}

            """);
        var records = PreparedChatFile.Read(dir.File("train.jsonl"));
        Assert.Equal(2, records.Count);
        Assert.Equal(1, records[0].Line);
        Assert.Equal(3, records[1].Line);
        Assert.Equal(new ChatMessage("assistant", "Hello", 0), records[0].Messages[2]);
        Assert.Equal(new ChatMessage("assistant", "Hold the button.", 1), records[0].Messages[4]);
        Assert.Null(records[1].Messages[1].Weight);
    }

    [Theory]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"Q\"}]}", "no assistant message")]
    [InlineData("{\"messages\":[{\"role\":\"robot\",\"content\":\"Q\"}]}", "messages[0].role must be one of system, user, assistant")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":5}]}", "messages[0].content must be a string")]
    [InlineData("{\"messages\":[{\"role\":\"assistant\",\"content\":\"A\",\"weight\":2}]}", "messages[0].weight must be 0 or 1")]
    [InlineData("{\"msgs\":[]}", "expected an object with a \"messages\" array")]
    [InlineData("{\"messages\":[", "not valid JSON")]
    public void Bad_line_names_file_line_and_reason(string line, string reason)
    {
        using var dir = new TempDir();
        string path = dir.File("validation.jsonl");
        File.WriteAllText(path, "{\"messages\":[{\"role\":\"user\",\"content\":\"Q\"},{\"role\":\"assistant\",\"content\":\"A\"}]}\n" + line + "\n");
        var ex = Assert.Throws<UserInputException>(() => PreparedChatFile.Read(path));
        Assert.StartsWith($"{path}:2: ", ex.Message);
        Assert.Contains(reason, ex.Message);
    }
}
