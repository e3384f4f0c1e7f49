using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Core.Tests.Tokenization;

/// <summary>User text that spells a special token is encoded as text by every kind of tokenizer.</summary>
public class SpecialTokenInjectionTests
{
    public static TheoryData<string> Kinds => ["gpt2", "cl100k", "o200k", "written-gpt2", "vocab-merges", "llama3-style", "sentencepiece"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Plain_encoding_never_yields_a_special_id(string kind)
    {
        using var dir = new TempDir();
        var tokenizer = Load(kind, dir);
        var specialIds = HardStrings.SpecialLookAlikes
            .Select(token => tokenizer.TryGetSpecialTokenId(token, out var id) ? id : -1)
            .Where(id => id >= 0)
            .ToHashSet();
        Assert.NotEmpty(specialIds);
        foreach (var text in HardStrings.SpecialLookAlikes.Concat(HardStrings.SpecialLookAlikes.Select(t => $"a {t}b\n{t}")))
        {
            var ids = tokenizer.EncodePlain(text);
            Assert.DoesNotContain(ids, specialIds.Contains);
            Assert.Equal(ids.Length, tokenizer.CountTokens(text));
            if (kind != "sentencepiece")
                Assert.Equal(text, tokenizer.Decode(ids));
        }
        var marker = HardStrings.SpecialLookAlikes.First(token => tokenizer.TryGetSpecialTokenId(token, out _));
        tokenizer.TryGetSpecialTokenId(marker, out var markerId);
        Assert.Equal([markerId], tokenizer.EncodeWithSpecialTokens(marker));
    }

    private static ITextTokenizer Load(string kind, TempDir dir)
    {
        switch (kind)
        {
            case "written-gpt2":
                TokenizerFiles.Write("gpt2", dir.Path);
                return TokenizerLoader.Load(dir.Path);
            case "vocab-merges":
                return TokenizerLoader.Load(TinyByteLevel.WriteVocabAndMerges(dir));
            case "llama3-style":
                return TokenizerLoader.Load(TinyByteLevel.Write(dir, TinyByteLevel.Llama3PreTokenizer, ignoreMerges: true));
            case "sentencepiece":
                TinySentencePiece.Write(Path.Combine(dir.Path, "tokenizer.model"));
                return TokenizerLoader.Load(dir.Path);
            default:
                return TokenizerLoader.Load(kind);
        }
    }
}
