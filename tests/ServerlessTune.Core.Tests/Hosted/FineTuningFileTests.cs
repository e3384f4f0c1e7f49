using System.Text.Json;
using ServerlessTune.Core.Hosted;

namespace ServerlessTune.Core.Tests.Hosted;

/// <summary>The fine-tuning API's JSONL: written from a prepared split, and held to the documented rules before upload.</summary>
public sealed class FineTuningFileTests : IDisposable
{
    static readonly HostedBaseModel Mini = HostedBaseModel.Parse("openai:gpt-4o-mini-2024-07-18");
    readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    static string Example(int i, string role = "assistant", int? weight = null) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["messages"] = new object[]
        {
            new { role = "system", content = "You are Harbor Fiber's support assistant." },
            new { role = "user", content = $"How do I reset router HX{i}?" },
            weight is null ? new { role, content = $"Hold reset for {i} seconds." } : new { role, content = $"Hold reset for {i} seconds.", weight },
        },
    });

    string File(params string[] lines) => _dir.Write("train.jsonl", string.Join("\n", lines) + "\n");

    static string[] Examples(int count) => [.. Enumerable.Range(1, count).Select(i => Example(i))];

    string Refusal(string file, HostedBaseModel? model = null) =>
        Assert.Throws<UserInputException>(() => FineTuningFile.Validate(file, "runs/r1/jobs/train/upload/train.jsonl", model ?? Mini, FineTuningFile.MinTrainingExamples)).Message;

    [Fact]
    public void A_prepared_split_is_written_as_the_APIs_chat_JSONL_and_passes_its_rules()
    {
        string prepared = _dir.Write("prepared.jsonl", string.Join("\n", Enumerable.Range(1, 12).Select(i =>
            $$"""{"messages":[{"role":"user","content":"q{{i}}"},{"role":"assistant","content":"draft","weight":0},{"role":"user","content":"again"},{"role":"assistant","content":"a{{i}}","weight":1}]}""")) + "\n");
        string written = _dir.File("upload.jsonl");
        using (var output = System.IO.File.Create(written)) Assert.Equal(12, FineTuningFile.Write(prepared, output));

        Assert.Equal(12, FineTuningFile.Validate(written, "upload.jsonl", Mini, FineTuningFile.MinTrainingExamples));
        var lines = System.IO.File.ReadAllLines(written);
        Assert.Equal(12, lines.Length);
        Assert.Equal("""{"messages":[{"role":"user","content":"q1"},{"role":"assistant","content":"draft","weight":0},{"role":"user","content":"again"},{"role":"assistant","content":"a1","weight":1}]}""", lines[0]);
    }

    [Fact]
    public void Fewer_than_ten_examples_are_refused_with_the_count()
    {
        string message = Refusal(File(Examples(9)));
        Assert.Equal("runs/r1/jobs/train/upload/train.jsonl: 9 example(s); the fine-tuning API needs at least 10", message);
    }

    [Fact]
    public void An_example_without_an_assistant_message_is_refused_naming_its_line()
    {
        var lines = Examples(12);
        lines[4] = """{"messages":[{"role":"system","content":"s"},{"role":"user","content":"Is anyone there?"}]}""";
        Assert.StartsWith("runs/r1/jobs/train/upload/train.jsonl:5: no assistant message to train on", Refusal(File(lines)));
    }

    [Fact]
    public void An_example_whose_only_assistant_message_has_weight_0_has_nothing_to_train_on()
    {
        var lines = Examples(12);
        lines[2] = Example(3, weight: 0);
        Assert.StartsWith("runs/r1/jobs/train/upload/train.jsonl:3: no assistant message to train on", Refusal(File(lines)));
    }

    [Fact]
    public void A_role_the_API_does_not_have_is_refused_naming_record_and_message()
    {
        var lines = Examples(12);
        lines[6] = Example(7, role: "bot");
        Assert.Equal("runs/r1/jobs/train/upload/train.jsonl:7: messages[2]: role: 'bot' is not one of system, user, assistant", Refusal(File(lines)));
    }

    [Fact]
    public void A_weight_other_than_0_or_1_or_on_a_user_message_is_refused()
    {
        var lines = Examples(12);
        lines[0] = Example(1, weight: 2);
        Assert.Equal("runs/r1/jobs/train/upload/train.jsonl:1: messages[2]: weight: must be 0 or 1", Refusal(File(lines)));
        lines[0] = """{"messages":[{"role":"user","content":"q","weight":1},{"role":"assistant","content":"a"}]}""";
        Assert.Equal("runs/r1/jobs/train/upload/train.jsonl:1: messages[0]: weight: only assistant messages carry a weight", Refusal(File(lines)));
    }

    [Fact]
    public void Missing_content_and_unknown_keys_are_refused()
    {
        var lines = Examples(12);
        lines[1] = """{"messages":[{"role":"user"},{"role":"assistant","content":"a"}]}""";
        Assert.Equal("runs/r1/jobs/train/upload/train.jsonl:2: messages[0]: content: missing or empty", Refusal(File(lines)));
        lines[1] = """{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}],"prompt":"x"}""";
        Assert.Equal("runs/r1/jobs/train/upload/train.jsonl:2: prompt: not a key of a chat fine-tuning example", Refusal(File(lines)));
        lines[1] = "{\"messages\": [";
        Assert.StartsWith("runs/r1/jobs/train/upload/train.jsonl:2: invalid JSON", Refusal(File(lines)));
    }

    [Fact]
    public void An_example_over_the_models_token_limit_is_refused_with_its_count()
    {
        // gpt-35-turbo-0613 takes 4,096 tokens per example (cl100k); one word and its space are one token.
        var model = HostedBaseModel.Parse("azure-openai:gpt-35-turbo-0613");
        var lines = Examples(12);
        string longAnswer = string.Concat(Enumerable.Repeat(" reset", 4_200));
        lines[9] = JsonSerializer.Serialize(new { messages = new object[] { new { role = "user", content = "q" }, new { role = "assistant", content = longAnswer } } });

        string message = Refusal(File(lines), model);

        Assert.StartsWith("runs/r1/jobs/train/upload/train.jsonl:10: ", message);
        Assert.EndsWith("tokens (cl100k), more than the 4096 a training example of gpt-35-turbo-0613 may hold", message);
        int counted = int.Parse(message.Split(' ')[1]);
        Assert.InRange(counted, 4_200, 4_220);
        // The same example fits gpt-4o-mini's 65,536.
        Assert.Equal(12, FineTuningFile.Validate(File(lines), "train.jsonl", Mini, FineTuningFile.MinTrainingExamples));
    }

    [Fact]
    public void The_family_fixes_the_encoding_and_the_example_limit()
    {
        Assert.Equal(("o200k", 65_536), (Mini.Tokenizer, Mini.ExampleTokenLimit));
        var nano = HostedBaseModel.Parse("azure-openai:gpt-4.1-nano-2025-04-14");
        Assert.Equal(("o200k", 65_536), (nano.Tokenizer, nano.ExampleTokenLimit));
        var turbo = HostedBaseModel.Parse("openai:gpt-3.5-turbo-0125");
        Assert.Equal(("cl100k", 16_385), (turbo.Tokenizer, turbo.ExampleTokenLimit));
        Assert.False(HostedBaseModel.TryParse("models/base", out _));
        Assert.Contains("legacy completions API", Assert.Throws<UserInputException>(() => HostedBaseModel.Parse("azure-openai:davinci-002")).Message);
        Assert.Contains("'llama-3' is not a model the fine-tuning API offers", Assert.Throws<UserInputException>(() => HostedBaseModel.Parse("openai:llama-3")).Message);
    }
}
