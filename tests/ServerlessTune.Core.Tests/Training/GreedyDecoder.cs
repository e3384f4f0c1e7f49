using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Tokenization;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests.Training;

/// <summary>Argmax decoding with the KV cache: the least a trained model must get right.</summary>
public static class GreedyDecoder
{
    public static string Answer(CausalLM model, IChatTemplate template, ITextTokenizer tokenizer, string system, string question, int maxNewTokens = 40)
    {
        model.eval();
        using var _ = no_grad();
        using var cache = model.NewCache();
        var prompt = template.Encode([new ChatMessage(ChatMessage.System, system), new ChatMessage(ChatMessage.User, question)], addGenerationPrompt: true).Ids;
        var produced = new List<int>();
        var next = tensor(prompt.Select(i => (long)i).ToArray(), [1, prompt.Length]);
        for (int i = 0; i < maxNewTokens; i++)
        {
            using var scope = NewDisposeScope();
            var logits = model.forward(next, null, cache);
            int id = (int)logits[0, -1].argmax().item<long>();
            if (template.StopTokenIds.Contains(id)) break;
            produced.Add(id);
            next = tensor(new long[] { id }, [1, 1]).MoveToOuterDisposeScope();
        }
        return tokenizer.Decode(produced);
    }
}
