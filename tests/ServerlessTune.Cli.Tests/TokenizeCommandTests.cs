using System.Text.Json;

namespace ServerlessTune.Cli.Tests;

public class TokenizeCommandTests
{
    [Fact]
    public void Text_prints_plain_ids_and_json_prints_an_array()
    {
        var plain = Stune.Run("tokenize", "--tokenizer", "gpt2", "--text", "hello world");
        Assert.Equal(0, plain.ExitCode);
        Assert.Equal("31373 995", plain.Stdout.Trim());

        var json = Stune.Run("tokenize", "--tokenizer", "gpt2", "--text", "hello world", "--json");
        Assert.Equal(0, json.ExitCode);
        Assert.Equal([31373, 995], JsonSerializer.Deserialize<int[]>(json.Stdout)!);
    }

    [Fact]
    public void Json_file_gives_one_id_array_per_string_in_order()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("stune-tokenize-").FullName, "texts.json");
        File.WriteAllText(file, """["hello world", "", "0000", "A\n'll !!to?'d''d of, can't."]""");
        var result = Stune.Run("tokenize", "--tokenizer", "gpt2", "--json-file", file, "--json");
        Assert.Equal(0, result.ExitCode);
        var ids = JsonSerializer.Deserialize<int[][]>(result.Stdout)!;
        Assert.Equal(4, ids.Length);
        Assert.Equal([31373, 995], ids[0]);
        Assert.Empty(ids[1]);
        Assert.Equal([2388], ids[2]);
        Assert.Equal([32, 198, 1183, 37867, 1462, 8348, 67, 7061, 67, 286, 11, 460, 470, 13], ids[3]);
    }

    [Fact]
    public void Special_token_text_is_plain_unless_allowed()
    {
        var plain = Stune.Run("tokenize", "--tokenizer", "gpt2", "--text", "hello <|endoftext|>", "--json");
        Assert.Equal(0, plain.ExitCode);
        Assert.DoesNotContain(50256, JsonSerializer.Deserialize<int[]>(plain.Stdout)!);

        var allowed = Stune.Run("tokenize", "--tokenizer", "gpt2", "--text", "hello <|endoftext|>", "--json", "--allow-special");
        Assert.Equal(0, allowed.ExitCode);
        Assert.Equal([31373, 220, 50256], JsonSerializer.Deserialize<int[]>(allowed.Stdout)!);
    }

    [Fact]
    public void Malformed_json_file_exits_1_naming_the_file_and_reason()
    {
        var dir = Directory.CreateTempSubdirectory("stune-tokenize-").FullName;
        var broken = Path.Combine(dir, "broken.json");
        File.WriteAllText(broken, "[\"ok\",\n  oops]");
        var result = Stune.Run("tokenize", "--tokenizer", "gpt2", "--json-file", broken);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("broken.json:2", result.Stderr);
        Assert.Contains("malformed JSON", result.Stderr);
        Assert.Empty(result.Stdout);

        var numbers = Path.Combine(dir, "numbers.json");
        File.WriteAllText(numbers, "[\"ok\", 3]");
        var wrongType = Stune.Run("tokenize", "--tokenizer", "gpt2", "--json-file", numbers);
        Assert.Equal(1, wrongType.ExitCode);
        Assert.Contains("numbers.json: item 1 is number, not a string", wrongType.Stderr);
    }

    [Fact]
    public void Missing_or_both_inputs_are_usage_errors_and_unknown_tokenizer_is_a_user_error()
    {
        Assert.Equal(2, Stune.Run("tokenize", "--tokenizer", "gpt2").ExitCode);
        Assert.Equal(2, Stune.Run("tokenize", "--tokenizer", "gpt2", "--text", "a", "--json-file", "b.json").ExitCode);
        var unknown = Stune.Run("tokenize", "--tokenizer", "/no/such/model", "--text", "a");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("/no/such/model", unknown.Stderr);
    }
}
