using System.Text;
using Microsoft.ML.Tokenizers;

namespace ServerlessTune.Core.Tokenization;

/// <summary>
/// tokenizer.json's model.ignore_merges (Llama 3): a pre-token that is itself in the vocabulary is taken whole,
/// as tiktoken does, and only the others go through BPE merges. <see cref="BpeTokenizer"/> has no such switch,
/// so this runs the package's own normalizer, pre-tokenizer and BPE around a vocabulary lookup.
/// </summary>
internal sealed class WholeTokenFirst(BpeTokenizer bpe, IReadOnlyDictionary<string, int> vocab, IReadOnlyDictionary<string, int>? specialTokens)
{
    public int[] Encode(string text)
    {
        var normalized = bpe.Normalizer?.Normalize(text) ?? text;
        var ids = new List<int>();
        foreach (var (offset, length) in bpe.PreTokenizer!.PreTokenize(normalized))
        {
            var word = normalized.Substring(offset, length);
            if (specialTokens is not null && specialTokens.TryGetValue(word, out var special))
                ids.Add(special);
            else if (vocab.TryGetValue(ByteLevelAlphabet.Encode(Encoding.UTF8.GetBytes(word)), out var whole))
                ids.Add(whole);
            else
                ids.AddRange(bpe.EncodeToIds(word, considerPreTokenization: false, considerNormalization: false));
        }
        return [.. ids];
    }
}
