using System.Text;
using System.Text.Json;
using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Core.Tests.Tokenization;

public class TokenizerLoaderTests
{
    private static int Id(string token) => TinyByteLevel.Id(token);

    [Fact]
    public void Gpt2_style_tokenizer_json_applies_merges_and_added_tokens()
    {
        using var dir = new TempDir();
        var tokenizer = TokenizerLoader.Load(TinyByteLevel.Write(dir, TinyByteLevel.Gpt2PreTokenizer));
        Assert.Equal([Id("hello"), Id("Ġworld")], tokenizer.EncodePlain("hello world"));
        Assert.Equal([Id("Ġ1"), Id("2"), Id("3")], tokenizer.EncodePlain(" 123"));
        Assert.Equal([TinyByteLevel.AddedId("<|im_start|>"), Id("hello")], tokenizer.EncodeWithSpecialTokens("<|im_start|>hello"));
        Assert.Equal(TinyByteLevel.WholeOnlyId + 1, tokenizer.VocabSize);
        Assert.Equal("<|im_start|>hello world", tokenizer.Decode([TinyByteLevel.AddedId("<|im_start|>"), Id("hello"), Id("Ġworld")]));
    }

    [Fact]
    public void Ignore_merges_takes_a_pre_token_that_is_in_the_vocabulary_whole_as_llama3_does()
    {
        using var mergesDir = new TempDir();
        using var ignoreDir = new TempDir();
        var merges = TokenizerLoader.Load(TinyByteLevel.Write(mergesDir, TinyByteLevel.Llama3PreTokenizer));
        var ignore = TokenizerLoader.Load(TinyByteLevel.Write(ignoreDir, TinyByteLevel.Llama3PreTokenizer, ignoreMerges: true));
        Assert.Equal([Id("x"), Id("y"), Id("z")], merges.EncodePlain("xyz"));
        Assert.Equal([TinyByteLevel.WholeOnlyId], ignore.EncodePlain("xyz"));
        Assert.Equal([TinyByteLevel.WholeOnlyId, Id("Ġworld")], ignore.EncodePlain("xyz world"));
        Assert.Equal(1, ignore.CountTokens("xyz"));
        Assert.Equal([TinyByteLevel.AddedId("<|im_end|>"), TinyByteLevel.WholeOnlyId], ignore.EncodeWithSpecialTokens("<|im_end|>xyz"));
        foreach (var text in HardStrings.All.Where(t => !t.Contains("xyz")))
            Assert.Equal(merges.EncodePlain(text), ignore.EncodePlain(text));
    }

    [Fact]
    public void Merges_as_pairs_give_the_same_ids_as_merges_as_strings()
    {
        using var strings = new TempDir();
        using var pairs = new TempDir();
        var a = TokenizerLoader.Load(TinyByteLevel.Write(strings, TinyByteLevel.Gpt2PreTokenizer));
        var b = TokenizerLoader.Load(TinyByteLevel.Write(pairs, TinyByteLevel.Gpt2PreTokenizer, pairMerges: true));
        foreach (var text in HardStrings.All)
            Assert.Equal(a.EncodePlain(text), b.EncodePlain(text));
    }

    [Fact]
    public void Pre_tokenizer_comes_from_the_file()
    {
        using var gpt2Dir = new TempDir();
        using var llama3Dir = new TempDir();
        using var smolDir = new TempDir();
        var gpt2 = TokenizerLoader.Load(TinyByteLevel.Write(gpt2Dir, TinyByteLevel.Gpt2PreTokenizer));
        var llama3 = TokenizerLoader.Load(TinyByteLevel.Write(llama3Dir, TinyByteLevel.Llama3PreTokenizer));
        var smol = TokenizerLoader.Load(TinyByteLevel.Write(smolDir, TinyByteLevel.SmolLmPreTokenizer));
        // GPT-2 keeps " 1234" as one word; Llama 3 splits digits in threes and the space off; SmolLM isolates each digit.
        Assert.Equal([Id("Ġ1"), Id("2"), Id("3"), Id("4")], gpt2.EncodePlain(" 1234"));
        Assert.Equal([Id("Ġ"), Id("123"), Id("4")], llama3.EncodePlain(" 1234"));
        Assert.Equal([Id("Ġ"), Id("1"), Id("2"), Id("3"), Id("4")], smol.EncodePlain(" 1234"));
        Assert.Equal([Id("1234")], gpt2.EncodePlain("1234"));
    }

    [Fact]
    public void Nfc_normalizer_composes_accents_as_qwen2_does()
    {
        using var nfcDir = new TempDir();
        using var rawDir = new TempDir();
        var nfc = TokenizerLoader.Load(TinyByteLevel.Write(nfcDir, TinyByteLevel.Llama3PreTokenizer, """{"type": "NFC"}"""));
        var raw = TokenizerLoader.Load(TinyByteLevel.Write(rawDir, TinyByteLevel.Llama3PreTokenizer));
        Assert.Equal(raw.EncodePlain("caf\u00E9"), nfc.EncodePlain("cafe\u0301"));
        Assert.NotEqual(raw.EncodePlain("caf\u00E9"), raw.EncodePlain("cafe\u0301"));
    }

    [Fact]
    public void Vocab_json_and_merges_txt_encode_like_the_gpt2_ranks()
    {
        using var written = new TempDir();
        using var dir = new TempDir();
        TokenizerFiles.Write("gpt2", written.Path);
        using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(written.Path, "tokenizer.json"))))
        {
            var model = json.RootElement.GetProperty("model");
            File.WriteAllText(Path.Combine(dir.Path, "vocab.json"), model.GetProperty("vocab").GetRawText());
            var merges = new StringBuilder("#version: 0.2\n");
            foreach (var merge in model.GetProperty("merges").EnumerateArray())
                merges.Append(merge.GetString()).Append('\n');
            File.WriteAllText(Path.Combine(dir.Path, "merges.txt"), merges.ToString());
        }
        // GPT-2's own vocab.json holds <|endoftext|> as id 50256; this one comes from the ranks and stops at 50255.
        File.WriteAllText(Path.Combine(dir.Path, "tokenizer_config.json"),
            """{"eos_token": "<|endoftext|>", "added_tokens_decoder": {"50256": {"content": "<|endoftext|>", "special": true}}}""");
        var fromFiles = TokenizerLoader.Load(dir.Path);
        var builtIn = TokenizerLoader.Load("gpt2");
        foreach (var text in HardStrings.All)
            Assert.Equal(builtIn.EncodePlain(text), fromFiles.EncodePlain(text));
        Assert.Equal(50256, fromFiles.EosTokenId);
        Assert.Equal([31373, 220, 50256], fromFiles.EncodeWithSpecialTokens("hello <|endoftext|>"));
        Assert.DoesNotContain(50256, fromFiles.EncodePlain("hello <|endoftext|>"));
    }

    [Fact]
    public void Gpt_j_style_added_tokens_json_adds_special_tokens_after_the_vocabulary()
    {
        using var dir = new TempDir();
        TinyByteLevel.WriteVocabAndMerges(dir);
        var first = TinyByteLevel.WholeOnlyId + 1;
        File.WriteAllText(Path.Combine(dir.Path, "added_tokens.json"),
            $$"""{"<|extratoken_1|>": {{first}}, "<|extratoken_2|>": {{first + 1}}}""");
        var tokenizer = TokenizerLoader.Load(dir.Path);
        Assert.Equal(first + 2, tokenizer.VocabSize);
        Assert.Equal([first + 1, Id("hello")], tokenizer.EncodeWithSpecialTokens("<|extratoken_2|>hello"));
        Assert.DoesNotContain(first + 1, tokenizer.EncodePlain("<|extratoken_2|>hello"));
        Assert.Equal([Id("hello"), Id("Ġworld")], tokenizer.EncodePlain("hello world"));
    }

    [Theory]
    [InlineData("""{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}""", "tokenizer.json:1: malformed JSON")]
    [InlineData("""{"pre_tokenizer": {"type": "ByteLevel"}}""", "tokenizer.json: model is missing")]
    [InlineData("""{"pre_tokenizer": {"type": "ByteLevel"}, "model": {"type": "Unigram", "vocab": []}}""", "model.type 'Unigram' is not supported")]
    [InlineData("""{"pre_tokenizer": {"type": "ByteLevel"}, "model": {"type": "BPE", "vocab": {"a": "x"}, "merges": []}}""", "model.vocab[\"a\"] is not a token id")]
    [InlineData("""{"pre_tokenizer": {"type": "ByteLevel"}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": [3]}}""", "model.merges[0]")]
    [InlineData("""{"pre_tokenizer": {"type": "Metaspace"}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}""", "not byte-level BPE")]
    [InlineData("""{"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Whitespace"}, {"type": "ByteLevel"}]}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}""", "pre_tokenizer.pretokenizers[0].type 'Whitespace' is not supported")]
    [InlineData("""{"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "(unclosed"}, "behavior": "Isolated"}, {"type": "ByteLevel", "use_regex": false}]}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}""", "pre_tokenizer.pretokenizers[0].pattern.Regex is not a valid regular expression")]
    [InlineData("""{"pre_tokenizer": {"type": "ByteLevel"}, "added_tokens": [{"content": "x"}], "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}""", "added_tokens[0]")]
    public void Malformed_tokenizer_json_names_the_file_and_the_problem(string json, string expected)
    {
        using var dir = new TempDir();
        File.WriteAllText(Path.Combine(dir.Path, "tokenizer.json"), json);
        var ex = Assert.Throws<UserInputException>(() => TokenizerLoader.Load(dir.Path));
        Assert.Contains(Path.Combine(dir.Path, "tokenizer.json"), ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Missing_files_are_user_errors_naming_what_is_missing()
    {
        using var dir = new TempDir();
        var empty = Assert.Throws<UserInputException>(() => TokenizerLoader.Load(dir.Path));
        Assert.Contains("no tokenizer.json, tokenizer.model or vocab.json + merges.txt", empty.Message);

        File.WriteAllText(Path.Combine(dir.Path, "vocab.json"), """{"a": 0}""");
        File.WriteAllText(Path.Combine(dir.Path, "merges.txt"), "#version: 0.2\n");
        Assert.Contains("has no symbol for byte 0x00", Assert.Throws<UserInputException>(() => TokenizerLoader.Load(dir.Path)).Message);

        File.Delete(Path.Combine(dir.Path, "merges.txt"));
        var noMerges = Assert.Throws<UserInputException>(() => TokenizerLoader.Load(dir.Path));
        Assert.Contains("merges.txt: file not found", noMerges.Message);

        File.WriteAllText(Path.Combine(dir.Path, "merges.txt"), "#version: 0.2\na b c\n");
        var badLine = Assert.Throws<UserInputException>(() => TokenizerLoader.Load(dir.Path));
        Assert.Contains("merges.txt:2: expected two tokens", badLine.Message);

        var unknown = Assert.Throws<UserInputException>(() => TokenizerLoader.Load("gpt5"));
        Assert.Contains("gpt5", unknown.Message);
    }

    [Fact]
    public void Config_tokens_missing_from_the_vocabulary_are_user_errors()
    {
        using var dir = new TempDir();
        TinyByteLevel.Write(dir, TinyByteLevel.Gpt2PreTokenizer);
        File.WriteAllText(Path.Combine(dir.Path, "tokenizer_config.json"), """{"eos_token": "<|not_there|>"}""");
        var ex = Assert.Throws<UserInputException>(() => TokenizerLoader.Load(dir.Path));
        Assert.Contains("tokenizer_config.json: eos_token '<|not_there|>' is not in the vocabulary", ex.Message);

        File.WriteAllText(Path.Combine(dir.Path, "tokenizer_config.json"), """{"eos_token": 5""");
        Assert.Contains("tokenizer_config.json:1: malformed JSON", Assert.Throws<UserInputException>(() => TokenizerLoader.Load(dir.Path)).Message);
    }
}
