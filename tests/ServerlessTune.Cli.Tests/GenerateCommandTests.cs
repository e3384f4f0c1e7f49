using System.Text.Json;
using ServerlessTune.Core.Generation;
using ServerlessTune.Core.Modeling;

namespace ServerlessTune.Cli.Tests;

/// <summary>A random llama tiny checkpoint for the generate and chat commands.</summary>
public sealed class GenerateModelFolder : IDisposable
{
    readonly DirectoryInfo root = Directory.CreateTempSubdirectory("gen-cli-");

    public GenerateModelFolder() => ModelInitializer.Run("llama", "tiny", Model, seed: 5);

    public string Model => Path.Combine(root.FullName, "model");

    public string Root => root.FullName;

    public void Dispose() => root.Delete(recursive: true);
}

public class GenerateCommandTests(GenerateModelFolder folder) : IClassFixture<GenerateModelFolder>
{
    StuneResult Generate(params string[] extra) =>
        Stune.Run(["generate", "--model", folder.Model, "--max-new-tokens", "12", .. extra], workingDirectory: null);

    static JsonElement Json(StuneResult result)
    {
        Assert.True(result.ExitCode == 0, result.Stderr);
        return JsonDocument.Parse(result.Stdout).RootElement;
    }

    [Fact]
    public void Greedy_generation_is_deterministic_and_the_stream_equals_the_json_text()
    {
        var first = Generate("--prompt", "Hello");
        var second = Generate("--prompt", "Hello");
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Equal(first.Stdout, second.Stdout);
        var json = Json(Generate("--prompt", "Hello", "--json"));
        Assert.Equal(json.GetProperty("text").GetString() + "\n", first.Stdout);
        Assert.Equal(12, json.GetProperty("completion_tokens").GetInt32());
        Assert.Equal("length", json.GetProperty("finish_reason").GetString());
        Assert.Contains("loading", first.Stderr);
    }

    [Fact]
    public void Sampling_with_the_same_seed_repeats_and_another_seed_differs()
    {
        string[] sampling = ["--prompt", "Hello", "--temperature", "1.0", "--top-p", "0.95", "--top-k", "100", "--json"];
        var a = Json(Generate([.. sampling, "--seed", "1"])).GetProperty("text").GetString();
        var b = Json(Generate([.. sampling, "--seed", "1"])).GetProperty("text").GetString();
        var c = Json(Generate([.. sampling, "--seed", "2"])).GetProperty("text").GetString();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void A_stop_string_ends_the_output_before_it()
    {
        var free = Json(Generate("--prompt", "Hello", "--json")).GetProperty("text").GetString()!;
        var stop = free.Substring(free.Length / 2, 3);
        var cut = Json(Generate("--prompt", "Hello", "--json", "--stop", stop, "--stop", "never appears"));
        Assert.Equal(free[..free.IndexOf(stop, StringComparison.Ordinal)], cut.GetProperty("text").GetString());
        Assert.Equal("stop", cut.GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Chat_streams_a_reply_per_stdin_line_with_the_history_of_a_chat_session()
    {
        var options = new GenerationOptions { MaxNewTokens = 12 };
        string expected;
        using (var model = ChatModel.Load(folder.Model))
        {
            var session = new ChatSession(model, options);
            expected = await Reply(session, "hello") + "\n" + await Reply(session, "what next?") + "\n";
        }
        var chat = Stune.Run(["chat", "--model", folder.Model, "--max-new-tokens", "12"], workingDirectory: null,
            stdin: "hello\n\nwhat next?\n/exit\nnever read\n");
        Assert.True(chat.ExitCode == 0, chat.Stderr);
        Assert.Equal(expected, chat.Stdout);
        Assert.Equal(4, chat.Stderr.Split("> ").Length - 1);

        var single = Generate("--prompt", "hello", "--chat");
        Assert.True(expected.StartsWith(single.Stdout, StringComparison.Ordinal), "generate --chat should give the first chat reply");
    }

    static async Task<string> Reply(ChatSession session, string text)
    {
        var reply = "";
        await foreach (var delta in session.SendAsync(text)) reply += delta;
        return reply;
    }

    [Fact]
    public void Chat_ends_cleanly_at_the_end_of_input()
    {
        var chat = Stune.Run(["chat", "--model", folder.Model, "--max-new-tokens", "4"], workingDirectory: null, stdin: "hi\n");
        Assert.True(chat.ExitCode == 0, chat.Stderr);
        Assert.Equal(2, chat.Stderr.Split("> ").Length - 1);
        Assert.EndsWith("\n", chat.Stdout);
    }

    [Fact]
    public void Bad_settings_and_missing_folders_are_user_errors_naming_them()
    {
        var badTemperature = Generate("--prompt", "x", "--temperature", "-1");
        Assert.Equal(1, badTemperature.ExitCode);
        Assert.Contains("temperature", badTemperature.Stderr);
        Assert.Equal("", badTemperature.Stdout);

        var missingModel = Stune.Run(["generate", "--model", Path.Combine(folder.Root, "nope"), "--prompt", "x"], workingDirectory: null);
        Assert.Equal(1, missingModel.ExitCode);
        Assert.Contains("nope", missingModel.Stderr);

        var missingAdapter = Generate("--prompt", "x", "--adapter", Path.Combine(folder.Root, "no-adapter"));
        Assert.Equal(1, missingAdapter.ExitCode);
        Assert.Contains("no-adapter", missingAdapter.Stderr);
    }

    [Fact]
    public void A_missing_prompt_is_a_usage_error()
    {
        var result = Stune.Run(["generate", "--model", folder.Model], workingDirectory: null);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--prompt", result.Stderr);
    }

    [Theory]
    [InlineData("fp32")]
    [InlineData("int8")]
    public void Bench_generate_reports_decode_speed_against_the_bound_it_measured(string format)
    {
        var result = Stune.Run(["bench", "generate", "--preset", "tiny", "--prompt-tokens", "8", "--tokens", "16", "--threads", "1",
                "--format", format, "--json"], workingDirectory: null);
        var json = Json(result);
        Assert.Equal("llama", json.GetProperty("architecture").GetString());
        Assert.Equal(format, json.GetProperty("format").GetString());
        Assert.Equal(1, json.GetProperty("threads").GetInt32());
        Assert.Equal(16, json.GetProperty("decoded_tokens").GetInt32());
        // llama ties its output projection to the token table and has no position table: every weight is read per token,
        // in fp32 four bytes each; in int8 the products read one byte per weight plus a scale per output row.
        var parameters = json.GetProperty("parameters").GetInt64();
        var bytes = json.GetProperty("bytes_per_token").GetInt64();
        if (format == "fp32") Assert.Equal(4 * parameters, bytes);
        else Assert.InRange(bytes, parameters, 2 * parameters);
        var bound = json.GetProperty("bound_tokens_per_second").GetDouble();
        Assert.Equal(json.GetProperty("read_bandwidth_bytes_per_second").GetDouble() / bytes, bound);
        Assert.Equal(json.GetProperty("tokens_per_second").GetDouble() / bound, json.GetProperty("ratio").GetDouble());
        Assert.Equal(json.GetProperty("prefill_tokens_per_second").GetDouble() / json.GetProperty("prefill_bound_tokens_per_second").GetDouble(),
            json.GetProperty("prefill_ratio").GetDouble(), 1e-9);
        Assert.Contains("read bandwidth", result.Stderr);
    }

    [Fact]
    public void Bench_generate_refuses_an_unknown_format()
    {
        var result = Stune.Run(["bench", "generate", "--format", "int4"], workingDirectory: null);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("int4", result.Stderr);
    }
}
