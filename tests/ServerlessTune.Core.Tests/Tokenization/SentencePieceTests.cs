using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Core.Tests.Tokenization;

public class SentencePieceTests
{
    private static ITextTokenizer Load(TempDir dir, string? config = null)
    {
        TinySentencePiece.Write(Path.Combine(dir.Path, "tokenizer.model"));
        if (config is not null)
            File.WriteAllText(Path.Combine(dir.Path, "tokenizer_config.json"), config);
        return TokenizerLoader.Load(dir.Path);
    }

    [Fact]
    public void Encodes_with_the_dummy_prefix_and_byte_fallback_and_no_bos()
    {
        using var dir = new TempDir();
        var tokenizer = Load(dir);
        Assert.Equal([TinySentencePiece.IdOf("▁hello"), TinySentencePiece.IdOf("▁world")], tokenizer.EncodePlain("hello world"));
        // 'z' is not a piece: its UTF-8 byte 0x7A falls back to <0x7A> = 3 + 0x7A.
        Assert.Equal([TinySentencePiece.IdOf("▁"), 3 + 0x7A], tokenizer.EncodePlain("z"));
        Assert.Equal("hello world", tokenizer.Decode(tokenizer.EncodePlain("hello world")));
        Assert.Equal(1, tokenizer.BosTokenId);
        Assert.Equal(2, tokenizer.EosTokenId);
        Assert.Equal(TinySentencePiece.FirstPieceId + TinySentencePiece.Pieces.Length, tokenizer.VocabSize);
    }

    [Fact]
    public void Plain_text_never_yields_control_or_added_token_ids()
    {
        using var dir = new TempDir();
        var added = TinySentencePiece.FirstPieceId + TinySentencePiece.Pieces.Length;
        var tokenizer = Load(dir,
            "{\"bos_token\": \"<s>\", \"eos_token\": \"</s>\", \"added_tokens_decoder\": {\"" + added + "\": {\"content\": \"<|user|>\", \"special\": true}}}");
        foreach (var text in HardStrings.SpecialLookAlikes.Concat(HardStrings.All))
        {
            var ids = tokenizer.EncodePlain(text);
            Assert.DoesNotContain(0, ids);
            Assert.DoesNotContain(1, ids);
            Assert.DoesNotContain(2, ids);
            Assert.DoesNotContain(added, ids);
        }
        Assert.Equal([2], tokenizer.EncodeWithSpecialTokens("</s>"));
        Assert.Equal([added], tokenizer.EncodeWithSpecialTokens("<|user|>"));
        Assert.Equal(added + 1, tokenizer.VocabSize);
    }

    [Fact]
    public void Not_a_sentencepiece_file_is_a_user_error_naming_the_file()
    {
        using var dir = new TempDir();
        File.WriteAllText(Path.Combine(dir.Path, "tokenizer.model"), "this is not a protobuf");
        var ex = Assert.Throws<UserInputException>(() => TokenizerLoader.Load(dir.Path));
        Assert.Contains("tokenizer.model", ex.Message);
    }
}
