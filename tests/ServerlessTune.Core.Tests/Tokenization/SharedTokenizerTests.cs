using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Core.Tests.Tokenization;

/// <summary>The ways of sizing and encoding that data preparation and serving rely on agree with plain encoding.</summary>
public class SharedTokenizerTests
{
    [Theory]
    [MemberData(nameof(TokenizerKinds.All), MemberType = typeof(TokenizerKinds))]
    public void Template_counts_equal_the_encoding_for_every_template(string kind)
    {
        using var dir = new TempDir();
        var tokenizer = TokenizerKinds.Load(kind, dir);
        var texts = HardStrings.All.Where(t => t.Trim().Length > 0).Concat(HardStrings.SpecialLookAlikes).ToArray();
        foreach (var name in ChatTemplates.Names)
        {
            var template = ChatTemplates.ByName(name, tokenizer);
            for (var i = 0; i + 3 < texts.Length; i += 3)
            {
                ChatMessage[] messages =
                [
                    new(ChatMessage.System, texts[i]),
                    new(ChatMessage.User, texts[i + 1]),
                    new(ChatMessage.Assistant, texts[i + 2], Weight: i % 2),
                    new(ChatMessage.User, " " + texts[i + 3]),
                    new(ChatMessage.Assistant, texts[i] + "\n" + texts[i + 1]),
                ];
                foreach (var prompt in new[] { false, true })
                {
                    var encoding = template.Encode(messages, prompt);
                    var count = template.Count(messages, prompt);
                    Assert.Equal(encoding.Ids.Length, count.Tokens);
                    Assert.Equal(encoding.AssistantMask.Count(m => m), count.TrainedTokens);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(TokenizerKinds.All), MemberType = typeof(TokenizerKinds))]
    public void Counting_a_span_inside_a_longer_buffer_equals_counting_the_string_and_encoding_it(string kind)
    {
        using var dir = new TempDir();
        var tokenizer = TokenizerKinds.Load(kind, dir);
        foreach (var text in HardStrings.All.Concat(HardStrings.SpecialLookAlikes))
        {
            // The span sits between other text, as a template's joined pieces sit in a reused buffer: nothing past it may count.
            var buffer = ("<|im_start|>" + text + "<|im_end|> tail").AsSpan();
            var span = buffer.Slice("<|im_start|>".Length, text.Length);
            var expected = tokenizer.EncodePlain(text).Length;
            Assert.Equal(expected, tokenizer.CountTokens(text));
            Assert.Equal(expected, tokenizer.CountTokens(span));
        }
    }

    [Theory]
    [MemberData(nameof(TokenizerKinds.All), MemberType = typeof(TokenizerKinds))]
    public void One_tokenizer_used_from_several_threads_at_once_gives_the_ids_of_one_thread(string kind)
    {
        using var dir = new TempDir();
        var tokenizer = TokenizerKinds.Load(kind, dir);
        var texts = Enumerable.Range(0, 400).Select(i => HardStrings.All[i % HardStrings.All.Length] + $" turn {i} " + HardStrings.All[(i * 7) % HardStrings.All.Length]).ToArray();
        var expected = texts.Select(tokenizer.EncodePlain).ToArray();
        var actual = new int[texts.Length][];
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            for (var round = 0; round < 5; round++)
                for (var i = t; i < texts.Length; i += 4)
                    actual[i] = tokenizer.EncodePlain(texts[i]);
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        for (var i = 0; i < texts.Length; i++)
            Assert.Equal(expected[i], actual[i]);
    }
}
