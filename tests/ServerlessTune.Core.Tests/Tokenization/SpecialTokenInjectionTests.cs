using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Core.Tests.Tokenization;

/// <summary>User text that spells a special token is encoded as text by every kind of tokenizer.</summary>
public class SpecialTokenInjectionTests
{
    [Theory]
    [MemberData(nameof(TokenizerKinds.All), MemberType = typeof(TokenizerKinds))]
    public void Plain_encoding_never_yields_a_special_id(string kind)
    {
        using var dir = new TempDir();
        var tokenizer = TokenizerKinds.Load(kind, dir);
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
}
