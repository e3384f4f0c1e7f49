using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Tests.Training;
using ServerlessTune.Core.Tokenization;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests.Evaluation;

public class LanguageModelScorerTests
{
    /// <summary>Conversations of different lengths (so batches are padded), some with no assistant token at all.</summary>
    static List<ChatEncoding> RandomConversations(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            var length = random.Next(2, 30);
            var ids = Enumerable.Range(0, length).Select(_ => random.Next(1, TinyModels.Vocab)).ToArray();
            var assistantFrom = i % 4 == 3 ? length : random.Next(1, length);
            return new ChatEncoding(ids, Enumerable.Range(0, length).Select(t => t >= assistantFrom).ToArray());
        }).ToList();
    }

    /// <summary>One unpadded forward per conversation, then log-softmax in double over the logits by hand.</summary>
    static (double AssistantNll, long AssistantTokens, long Top1, double AllNll, long AllTokens) ByHand(CausalLM model, IEnumerable<ChatEncoding> conversations)
    {
        model.eval();
        using var _ = no_grad();
        double assistantNll = 0, allNll = 0;
        long assistantTokens = 0, top1 = 0, allTokens = 0;
        foreach (var c in conversations)
        {
            using var input = tensor(c.Ids.Select(i => (long)i).ToArray(), 1, c.Ids.Length);
            using var logits = model.forward(input);
            var values = logits.data<float>().ToArray();
            var vocab = (int)logits.shape[2];
            for (var t = 0; t + 1 < c.Ids.Length; t++)
            {
                var row = values.AsSpan(t * vocab, vocab);
                double max = double.NegativeInfinity;
                var argmax = 0;
                for (var v = 0; v < vocab; v++)
                    if (row[v] > max) (max, argmax) = (row[v], v);
                double sumExp = 0;
                for (var v = 0; v < vocab; v++) sumExp += Math.Exp(row[v] - max);
                var nll = -(row[c.Ids[t + 1]] - max - Math.Log(sumExp));
                allNll += nll;
                allTokens++;
                if (!c.AssistantMask[t + 1]) continue;
                assistantNll += nll;
                assistantTokens++;
                if (argmax == c.Ids[t + 1]) top1++;
            }
        }
        return (assistantNll, assistantTokens, top1, allNll, allTokens);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public void Perplexity_is_exp_of_the_mean_nll_computed_by_hand(string modelType)
    {
        var model = TinyModels.ByType(modelType);
        var conversations = RandomConversations(10, seed: 3);

        var totals = LanguageModelScorer.Score(model, conversations, batchSize: 4, padTokenId: 0);
        var metrics = totals.ToMetrics();
        var expected = ByHand(model, conversations);

        Assert.Equal(expected.AssistantTokens, totals.AssistantTokens);
        Assert.Equal(expected.AllTokens, totals.AllTokens);
        Assert.Equal(conversations.Sum(c => c.Ids.Length - 1), totals.AllTokens);
        Assert.Equal(expected.Top1, totals.AssistantTop1Correct);
        var meanNll = expected.AssistantNll / expected.AssistantTokens;
        var meanNllAll = expected.AllNll / expected.AllTokens;
        Assert.Equal(meanNll, metrics[MetricCatalog.Nll].Value, 4);
        Assert.Equal(Math.Exp(meanNll), metrics[MetricCatalog.Perplexity].Value, 1e-4 * Math.Exp(meanNll));
        Assert.Equal(Math.Exp(meanNllAll), metrics[MetricCatalog.PerplexityAll].Value, 1e-4 * Math.Exp(meanNllAll));
        Assert.Equal((double)expected.Top1 / expected.AssistantTokens, metrics[MetricCatalog.Top1Accuracy].Value, 12);
        // A random model over 61 tokens is close to uniform: a sanity bound on the scale, not the check itself.
        Assert.InRange(metrics[MetricCatalog.Perplexity].Value, 30, 120);
    }

    [Fact]
    public void Batching_and_padding_do_not_change_the_figures_and_repeat_runs_are_identical()
    {
        var model = TinyModels.Llama();
        var conversations = RandomConversations(9, seed: 8);
        var one = LanguageModelScorer.Score(model, conversations, batchSize: 1, padTokenId: 0);
        var padded = LanguageModelScorer.Score(model, conversations, batchSize: 5, padTokenId: 7);
        Assert.Equal(one.AllTokens, padded.AllTokens);
        Assert.Equal(one.AssistantTop1Correct, padded.AssistantTop1Correct);
        Assert.Equal(one.AllNllSum, padded.AllNllSum, 1e-6 * one.AllNllSum);
        Assert.Equal(padded, LanguageModelScorer.Score(model, conversations, batchSize: 5, padTokenId: 7));
    }

    static (IChatTemplate Template, ITextTokenizer Tokenizer) CharChatTemplate(TempDir files)
    {
        var folder = Path.Combine(files.Path, "tokenizer");
        CharTokenizerFolder.Write(folder);
        return (ChatTemplates.For(folder, null), TokenizerLoader.Load(folder));
    }

    [Fact]
    public void A_validation_conversation_longer_than_the_context_is_an_error_naming_its_line()
    {
        using var files = new TempDir();
        var path = files.Write("validation.jsonl", LumoSupportData.Line("Hi", "Hello") + "\n" + LumoSupportData.Line("Tell me all.", new string('x', 300)) + "\n");
        var (template, tokenizer) = CharChatTemplate(files);
        var ex = Assert.Throws<UserInputException>(() => ValidationConversations.Load(path, template, tokenizer, contextLength: 64));
        Assert.Matches(@"validation\.jsonl:2: conversation is \d+ tokens, longer than the model's context of 64$", ex.Message);
    }

    [Fact]
    public void Validation_without_assistant_tokens_is_an_error()
    {
        using var files = new TempDir();
        var path = files.Write("validation.jsonl",
            """{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello","weight":0}]}""" + "\n");
        var (template, tokenizer) = CharChatTemplate(files);
        var ex = Assert.Throws<UserInputException>(() => ValidationConversations.Load(path, template, tokenizer, contextLength: 64));
        Assert.EndsWith("validation.jsonl: no assistant tokens to measure (no conversations, or every assistant turn has weight 0)", ex.Message);
    }
}
