using Microsoft.ML.Tokenizers;

namespace ServerlessTune.Core.Tokenization;

/// <summary>SentencePiece tokenizer.model files (Llama 2, TinyLlama, Mistral) through the package's LlamaTokenizer.</summary>
internal static class SentencePieceLoader
{
    public static TextTokenizer Load(string path, TokenizerConfig config)
    {
        if (!File.Exists(path))
            throw new UserInputException($"{path}: file not found");
        var bytes = File.ReadAllBytes(path);
        var plain = Create(bytes, path, specialTokens: null);
        // <s>, </s>, <unk> are control pieces of the model itself; added tokens come from tokenizer_config.json.
        var specials = new Dictionary<string, int>(config.AddedTokens, StringComparer.Ordinal);
        specials.TryAdd(plain.BeginningOfSentenceToken, plain.BeginningOfSentenceId);
        specials.TryAdd(plain.EndOfSentenceToken, plain.EndOfSentenceId);
        specials.TryAdd(plain.UnknownToken, plain.UnknownId);
        var withSpecials = Create(bytes, path, specials);
        var vocabSize = Math.Max(plain.Vocabulary.Values.Max(), specials.Values.Max()) + 1;
        var ids = SpecialTokenResolver.Resolve(config with
        {
            BosToken = config.BosToken ?? plain.BeginningOfSentenceToken,
            EosToken = config.EosToken ?? plain.EndOfSentenceToken,
        }, specials, plain.Vocabulary);
        return new TextTokenizer(Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path))) ?? path, plain, new Lazy<Tokenizer>(withSpecials),
            specials, vocabSize, ids)
        {
            Continuation = text => Continue(plain, text),
            Legacy = config.Legacy ?? true,
        };
    }

    // Text that continues a line gets no dummy "▁" prefix: escape spaces the way the model's normalizer would
    // and skip the normalizer, which is what adds the prefix (Llama's normalizer is otherwise the identity).
    private static int[] Continue(SentencePieceTokenizer tokenizer, string text) =>
        [.. tokenizer.EncodeToIds(text.Replace(' ', '\u2581'), addBeginningOfSentence: false, addEndOfSentence: false,
            considerPreTokenization: false, considerNormalization: false)];

    private static SentencePieceTokenizer Create(byte[] model, string path, IReadOnlyDictionary<string, int>? specialTokens)
    {
        try
        {
            // BOS is the chat template's job, so plain encoding adds none.
            return LlamaTokenizer.Create(new MemoryStream(model, writable: false), addBeginOfSentence: false, addEndOfSentence: false,
                specialTokens);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or NotSupportedException
                                   or Google.Protobuf.InvalidProtocolBufferException)
        {
            throw new UserInputException($"{path}: not a SentencePiece model ({ex.Message})", ex);
        }
    }
}
