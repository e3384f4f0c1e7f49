using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Core.Tests.Tokenization;

/// <summary>
/// Ids produced by the reference implementations, not by this code:
/// - "tiktoken" cases: openai/tiktoken tests/test_encoding.py (test_simple, test_simple_repeated, test_simple_regex,
///   test_encode_surrogate_pairs).
/// - "transformers.js" cases: xenova/transformers.js tests/models/gpt2/test_tokenization_gpt2.js, whose ids were
///   generated with Python Transformers for Xenova/gpt2 (GPT-2), Xenova/gpt-4 (cl100k) and Xenova/gpt-4o (o200k);
///   the texts are BASE_TEST_STRINGS in tests/models/test_strings.js.
/// - the emoji sentence: the OpenAI::Tokens RSpec suite of a Ruby GPT-2/GPT-3 tokenizer.
/// GPT-2 is checked both through the built-in tiktoken ranks and through the tokenizer.json written from them.
/// </summary>
public class ReferenceIdsTests
{
    public static TheoryData<string, int[]> Gpt2Cases => new()
    {
        // tiktoken
        { "hello world", [31373, 995] },
        { "0", [15] },
        { "0000", [2388] },
        { "000000000", [10535, 830] },
        { "0000000000000000", [25645] },
        { "00000000000000000", [8269, 10535, 830] },
        // transformers.js (Xenova/gpt2)
        { "How are you doing?", [2437, 389, 345, 1804, 30] },
        { "You should've done this", [1639, 815, 1053, 1760, 428] },
        { "0123456789 0 1 2 3 4 5 6 7 8 9 10 100 1000", [486, 1954, 2231, 3134, 4531, 657, 352, 362, 513, 604, 642, 718, 767, 807, 860, 838, 1802, 8576] },
        { "The company was founded in 2016.", [464, 1664, 373, 9393, 287, 1584, 13] },
        { "A\n'll !!to?'d''d of, can't.", [32, 198, 1183, 37867, 1462, 8348, 67, 7061, 67, 286, 11, 460, 470, 13] },
        { "def main():\n\tpass", [4299, 1388, 33529, 198, 197, 6603] },
        { "let a = obj.toString();\ntoString();", [1616, 257, 796, 26181, 13, 1462, 10100, 9783, 198, 1462, 10100, 9783] },
        { "This\n\nis\na\ntest.", [1212, 198, 198, 271, 198, 64, 198, 9288, 13] },
        { "UNwant\u00e9d,running", [4944, 42949, 2634, 67, 11, 20270] },
        { "1\u00002\uFFFD3", [16, 188, 17, 4210, 18] },
        { "生活的真谛是", [37955, 162, 112, 119, 21410, 40367, 253, 164, 108, 249, 42468] },
        { "   leading space", [220, 220, 3756, 2272] },
        { "trailing space   ", [9535, 4386, 2272, 220, 220, 220] },
        { "Hi  Hello", [17250, 220, 18435] },
        { "test $1 R2 #3 €4 £5 ¥6 ₣7 ₹8 ₱9 test", [9288, 720, 16, 371, 17, 1303, 18, 10432, 19, 4248, 20, 38221, 21, 2343, 224, 96, 22, 2343, 224, 117, 23, 2343, 224, 109, 24, 1332] },
        { "you…  ", [5832, 1399, 220, 220] },
        { "you…\u00A0\u00A0you…\u00A0\u00A0", [5832, 1399, 1849, 1849, 5832, 1399, 4603] },
        { "weird \uFF5E edge \uFF5E case", [732, 1447, 27332, 121, 252, 5743, 27332, 121, 252, 1339] },
        { "▁This ▁is ▁a ▁test ▁.", [5008, 223, 1212, 11019, 223, 271, 11019, 223, 64, 11019, 223, 9288, 11019, 223, 13] },
        { " </s> test </s> ", [7359, 82, 29, 1332, 7359, 82, 29, 220] },
        { "</s>test</s>", [3556, 82, 29, 9288, 3556, 82, 29] },
        // Ruby OpenAI::Tokens spec
        { "This is an example sentence to try encoding out on! ❤️", [1212, 318, 281, 1672, 6827, 284, 1949, 21004, 503, 319, 0, 43074, 97, 37929] },
    };

    private static readonly Lazy<ITextTokenizer> WrittenGpt2 = new(() =>
    {
        using var dir = new TempDir();
        TokenizerFiles.Write("gpt2", dir.Path);
        return TokenizerLoader.Load(dir.Path);
    });

    [Theory]
    [MemberData(nameof(Gpt2Cases))]
    public void Gpt2_builtin_matches_reference_ids(string text, int[] expected)
    {
        var tokenizer = TokenizerLoader.Load("gpt2");
        Assert.Equal(expected, tokenizer.EncodePlain(text));
        Assert.Equal(text, tokenizer.Decode(expected));
        Assert.Equal(expected.Length, tokenizer.CountTokens(text));
    }

    [Theory]
    [MemberData(nameof(Gpt2Cases))]
    public void Gpt2_tokenizer_json_matches_reference_ids(string text, int[] expected)
    {
        var tokenizer = WrittenGpt2.Value;
        Assert.Equal(expected, tokenizer.EncodePlain(text));
        Assert.Equal(text, tokenizer.Decode(expected));
    }

    [Theory]
    // tiktoken
    [InlineData("cl100k", "hello world", new[] { 15339, 1917 })]
    [InlineData("cl100k", "rer", new[] { 38149 })]
    [InlineData("cl100k", "'rer", new[] { 2351, 81 })]
    [InlineData("cl100k", "today\n ", new[] { 31213, 198, 220 })]
    [InlineData("cl100k", "today\n \n", new[] { 31213, 27907 })]
    [InlineData("cl100k", "today\n  \n", new[] { 31213, 14211 })]
    [InlineData("cl100k", "👍", new[] { 9468, 239, 235 })]
    // transformers.js (Xenova/gpt-4, Xenova/gpt-4o)
    [InlineData("cl100k", "let a = obj.toString();\ntoString();", new[] { 1169, 264, 284, 2909, 5180, 545, 6712, 2178 })]
    [InlineData("cl100k", "weird \uFF5E edge \uFF5E case", new[] { 906, 2668, 220, 21909, 6964, 220, 21909, 1162 })]
    [InlineData("o200k", "0123456789 0 1 2 3 4 5 6 7 8 9 10 100 1000",
        new[] { 19267, 22901, 30833, 24, 220, 15, 220, 16, 220, 17, 220, 18, 220, 19, 220, 20, 220, 21, 220, 22, 220, 23, 220, 24, 220, 702, 220, 1353, 220, 1353, 15 })]
    [InlineData("o200k", "A\n'll !!to?'d''d of, can't.", new[] { 32, 198, 6090, 17131, 935, 48511, 67, 5830, 67, 328, 11, 8535, 13 })]
    [InlineData("o200k", "def main():\n\tpass", new[] { 1314, 2758, 8595, 100653 })]
    [InlineData("o200k", "生活的真谛是", new[] { 32479, 1616, 7910, 7856, 249, 3221 })]
    [InlineData("o200k", "   leading space", new[] { 256, 8117, 4918 })]
    [InlineData("o200k", "This\n\nis\na\ntest.", new[] { 2500, 279, 276, 198, 64, 198, 3190, 13 })]
    public void Later_encodings_match_reference_ids(string spec, string text, int[] expected)
    {
        var tokenizer = TokenizerLoader.Load(spec);
        Assert.Equal(expected, tokenizer.EncodePlain(text));
        Assert.Equal(text, tokenizer.Decode(expected));
    }

    [Theory]
    [InlineData("gpt2", "r50k_base")]
    [InlineData("cl100k", "cl100k_base")]
    [InlineData("o200k", "o200k_base")]
    public void Builtin_split_patterns_encode_like_the_package_own_tiktoken(string spec, string encodingName)
    {
        // The package's tiktoken uses its own regexes; ours are spelled the way tokenizer.json files need them.
        var package = Microsoft.ML.Tokenizers.TiktokenTokenizer.CreateForEncoding(encodingName);
        var tokenizer = TokenizerLoader.Load(spec);
        foreach (var text in HardStrings.All.Where(t => !t.Contains("<|")))
            Assert.Equal(package.EncodeToIds(text), tokenizer.EncodePlain(text));
    }

    [Fact]
    public void Trusted_text_gets_the_endoftext_id_as_tiktoken_does_with_allowed_special()
    {
        // tiktoken test_simple: encode("hello <|endoftext|>", allowed_special="all")
        Assert.Equal([31373, 220, 50256], TokenizerLoader.Load("gpt2").EncodeWithSpecialTokens("hello <|endoftext|>"));
        Assert.Equal([15339, 220, 100257], TokenizerLoader.Load("cl100k").EncodeWithSpecialTokens("hello <|endoftext|>"));
    }
}
