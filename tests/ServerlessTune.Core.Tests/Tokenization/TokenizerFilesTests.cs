using System.Text.Json;
using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Core.Tests.Tokenization;

public class TokenizerFilesTests
{
    [Theory]
    [InlineData("gpt2")]
    [InlineData("cl100k")]
    [InlineData("o200k")]
    public void Written_tokenizer_json_encodes_exactly_like_the_builtin_tiktoken(string spec)
    {
        using var dir = new TempDir();
        var files = TokenizerFiles.Write(spec, dir.Path);
        var builtIn = TokenizerLoader.Load(spec);
        var written = TokenizerLoader.Load(dir.Path);

        Assert.Equal(builtIn.VocabSize, files.VocabSize);
        Assert.Equal(builtIn.VocabSize, written.VocabSize);
        foreach (var text in HardStrings.All)
        {
            var ids = builtIn.EncodePlain(text);
            Assert.Equal(ids, written.EncodePlain(text));
            Assert.Equal(text, written.Decode(ids));
            Assert.Equal(builtIn.EncodeWithSpecialTokens(text), written.EncodeWithSpecialTokens(text));
        }
        foreach (var token in new[] { "<|endoftext|>", "<|im_start|>", "<|im_end|>" })
        {
            Assert.True(builtIn.TryGetSpecialTokenId(token, out var expected));
            Assert.True(written.TryGetSpecialTokenId(token, out var actual));
            Assert.Equal(expected, actual);
        }
        Assert.Equal(files.EosTokenId, written.EosTokenId);
        Assert.Equal(files.PadTokenId, written.PadTokenId);
        Assert.Null(written.BosTokenId);
    }

    [Fact]
    public void Gpt2_files_put_chat_tokens_after_the_base_vocabulary_and_keep_endoftext_as_eos()
    {
        using var dir = new TempDir();
        var files = TokenizerFiles.Write("gpt2", dir.Path);
        Assert.Equal(new TokenizerFileSet(50259, null, 50256, 50256), files);

        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "tokenizer_config.json")));
        var root = config.RootElement;
        Assert.Equal("<|endoftext|>", root.GetProperty("eos_token").GetString());
        Assert.Equal("<|endoftext|>", root.GetProperty("pad_token").GetString());
        Assert.Equal(1024, root.GetProperty("model_max_length").GetInt32());
        Assert.Equal(ChatMlTemplate.Jinja, root.GetProperty("chat_template").GetString());
        Assert.Equal("<|im_start|>", root.GetProperty("added_tokens_decoder").GetProperty("50257").GetProperty("content").GetString());
        Assert.Equal("<|im_end|>", root.GetProperty("added_tokens_decoder").GetProperty("50258").GetProperty("content").GetString());

        using var tokenizer = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "tokenizer.json")));
        var model = tokenizer.RootElement.GetProperty("model");
        Assert.Equal(50256, model.GetProperty("vocab").EnumerateObject().Count());
        Assert.Equal(198, model.GetProperty("vocab").GetProperty("Ċ").GetInt32());
        Assert.Equal(220, model.GetProperty("vocab").GetProperty("Ġ").GetInt32());
        // GPT-2's first merge in its merges.txt is "Ġ t" (rank 256 = "Ġt").
        Assert.Equal("Ġ t", model.GetProperty("merges")[0].GetString());
        var added = tokenizer.RootElement.GetProperty("added_tokens").EnumerateArray()
            .Select(t => (t.GetProperty("id").GetInt32(), t.GetProperty("content").GetString(), t.GetProperty("special").GetBoolean()))
            .ToArray();
        Assert.Equal([(50256, "<|endoftext|>", true), (50257, "<|im_start|>", true), (50258, "<|im_end|>", true)], added);

        using var map = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "special_tokens_map.json")));
        Assert.Equal("<|endoftext|>", map.RootElement.GetProperty("eos_token").GetString());
    }

    [Fact]
    public void Writing_twice_gives_byte_identical_files()
    {
        using var first = new TempDir();
        using var second = new TempDir();
        TokenizerFiles.Write("gpt2", first.Path, modelMaxLength: 256);
        TokenizerFiles.Write("gpt2", second.Path, modelMaxLength: 256);
        var names = Directory.GetFiles(first.Path).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"], names);
        foreach (var name in names)
            Assert.Equal(File.ReadAllBytes(Path.Combine(first.Path, name)), File.ReadAllBytes(Path.Combine(second.Path, name)));
    }

    [Fact]
    public void Writing_a_model_folder_spec_is_refused()
    {
        using var dir = new TempDir();
        var ex = Assert.Throws<UserInputException>(() => TokenizerFiles.Write(dir.Path, dir.Path));
        Assert.Contains("built-in", ex.Message);
    }
}
