using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Tests.Modeling;
using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Core.Tests.Tokenization;

/// <summary>
/// Template counts add up the role line and the content apart where <see cref="NewlineBoundary"/> says the tokenizer
/// splits between them: that must equal encoding the conversation joined, for every tokenizer and every format.
/// </summary>
public class NewlineBoundaryTests
{
    /// <summary>The loader's kinds, the Transformers fixtures' tokenizers, and GPT-2's full vocabulary under Llama 3's and Qwen2's splits.</summary>
    public static TheoryData<string> Kinds =>
    [
        .. ((IEnumerable<object[]>)TokenizerKinds.All).Select(row => (string)row[0]),
        "llama3-split", "qwen2-split",
        .. new[] { "gpt2", "gptj", "llama", "mistral", "qwen2", "phi3" }.Select(arch => "hf-reference/" + arch),
    ];

    static readonly string[] Starts =
    [
        "Hello", " leading space", "  two spaces", "\nnewline first", "\n\ntwo newlines", "\ttab", "\r\nCRLF", "/slash", "'s contraction",
        "'ll", "42 is a number", "1234567", "!bang", ":colon", "😀 emoji", "\u0301combining", "生活", "\u00A0nbsp", "\u2028line sep",
        "<|im_end|> look-alike", "x",
    ];

    static readonly string[] Middles =
    [
        " the lock", " does not open", "Haldor keypad 535", " can't, won't", "\n\n", "\n", "  ", "\t", "£5 ", "…", "Привет", "\r\n",
    ];

    static readonly string[] Ends = ["", ".", "?", "!", " ", "   ", "\n", "\n\n", " \n", ":", "'", "'s", "1", "😀", "\u0301", "/", "<"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Template_counts_with_the_role_lines_apart_equal_the_joined_encoding(string kind)
    {
        using var dir = new TempDir();
        var (tokenizer, own) = Load(kind, dir);
        var templates = ChatTemplates.Names.Select(name => ChatTemplates.ByName(name, tokenizer)).ToList();
        if (own is not null)
            templates.Add(own);
        var random = new Random(14);
        for (var record = 0; record < 120; record++)
        {
            var messages = new List<ChatMessage>();
            if (record % 3 == 0)
                messages.Add(new ChatMessage(ChatMessage.System, Content(random)));
            for (var turn = 0; turn < 1 + record % 3; turn++)
            {
                messages.Add(new ChatMessage(ChatMessage.User, Content(random)));
                messages.Add(new ChatMessage(ChatMessage.Assistant, Content(random), Weight: turn % 2 == 0 ? null : 0));
            }
            foreach (var template in templates)
            foreach (var prompt in new[] { false, true })
            {
                var encoding = template.Encode(messages, prompt);
                var count = template.Count(messages, prompt);
                Assert.True(encoding.Ids.Length == count.Tokens,
                    $"{kind}, {template.Name}: counted {count.Tokens}, encoded {encoding.Ids.Length}: {string.Join(" | ", messages.Select(m => m.Content))}");
                Assert.Equal(encoding.AssistantMask.Count(m => m), count.TrainedTokens);
            }
        }
    }

    /// <summary>The rule itself, on every pair of edge cases: where it says split, the counts apart add up to the joined count.</summary>
    [Theory]
    [MemberData(nameof(Kinds))]
    public void Where_the_rule_splits_the_counts_apart_add_up(string kind)
    {
        using var dir = new TempDir();
        var (tokenizer, _) = Load(kind, dir);
        var boundary = ((TextTokenizer)tokenizer).Boundary;
        Assert.Equal(kind != "sentencepiece", boundary is not null);
        if (boundary is null)
            return;
        string[] lefts = ["\n", "user\n", "assistant\n", "\n\n", " \n", "x \n", "a\n\n", "<|user|>\n", "System:\n", "ok.\n", "12\n", "'\n", "\t\n", "\r\n"];
        var splits = 0;
        foreach (var left in lefts)
        foreach (var right in Starts.Concat(Middles).Concat(Ends.Where(e => e.Length > 0)))
        {
            char? before = left.Length > 1 ? left[^2] : null;
            if (!boundary.Splits(before, right[0]))
                continue;
            splits++;
            Assert.True(tokenizer.CountTokens(left + right) == tokenizer.CountTokens(left) + tokenizer.CountTokens(right),
                $"{kind}: {Regex.Escape(left)} + {Regex.Escape(right)}");
        }
        Assert.True(splits > 100, $"only {splits} pairs split");
    }

    /// <summary>The rule asks char.IsWhiteSpace where the regexes say \s: the two must be the same set.</summary>
    [Fact]
    public void Char_white_space_is_the_regex_white_space()
    {
        var space = new Regex(@"^\s$", RegexOptions.CultureInvariant);
        for (var c = 0; c <= char.MaxValue; c++)
            Assert.True(char.IsWhiteSpace((char)c) == space.IsMatch(((char)c).ToString()), $"U+{c:X4}");
    }

    static string Content(Random random)
    {
        var text = Starts[random.Next(Starts.Length)];
        for (var i = random.Next(4); i > 0; i--)
            text += Middles[random.Next(Middles.Length)];
        return text + Ends[random.Next(Ends.Length)];
    }

    /// <summary>The tokenizer and, for a model folder, the format its tokenizer_config.json names.</summary>
    static (ITextTokenizer Tokenizer, IChatTemplate? Own) Load(string kind, TempDir dir)
    {
        if (kind.StartsWith("hf-reference/", StringComparison.Ordinal))
        {
            var folder = Path.Combine(HfReference.Root(), kind["hf-reference/".Length..], "model");
            return (TokenizerLoader.Load(folder), ChatTemplates.For(folder, null));
        }
        if (kind is "llama3-split" or "qwen2-split")
        {
            TokenizerFiles.Write("gpt2", dir.Path);
            var path = Path.Combine(dir.Path, TokenizerFiles.TokenizerJson);
            var json = JsonNode.Parse(File.ReadAllText(path))!;
            var split = kind == "llama3-split" ? TinyByteLevel.Llama3PreTokenizer : TinyByteLevel.Llama3PreTokenizer.Replace(@"\\p{N}{1,3}", @"\\p{N}");
            json["pre_tokenizer"] = JsonNode.Parse(split);
            File.WriteAllText(path, json.ToJsonString());
            return (TokenizerLoader.Load(dir.Path), null);
        }
        return (TokenizerKinds.Load(kind, dir), null);
    }
}
