namespace ServerlessTune.Core.Tokenization;

/// <summary>Opens a tokenizer from a model folder or a built-in encoding name (gpt2, cl100k, o200k).</summary>
public static class TokenizerLoader
{
    /// <summary>The tokenizer; built-in encodings are one shared instance per process.</summary>
    public static ITextTokenizer Load(string spec) => Load(spec, shared: true);

    /// <summary>
    /// A new instance, built-in encodings too. The package's tokenizers keep a word cache behind one lock per
    /// instance; threads that tokenize flat out (data preparation workers) each take their own so they do not queue on it.
    /// </summary>
    public static ITextTokenizer LoadUnshared(string spec) => Load(spec, shared: false);

    private static ITextTokenizer Load(string spec, bool shared)
    {
        if (BuiltInEncoding.TryGet(spec, out var encoding))
            return shared ? encoding.Tokenizer : encoding.CreateTextTokenizer();
        if (!Directory.Exists(spec))
            throw new UserInputException(
                $"tokenizer '{spec}': no such model folder, and not a built-in encoding ({string.Join(", ", BuiltInEncoding.Names)})");
        var config = TokenizerConfig.Load(spec);
        var tokenizerJson = Path.Combine(spec, TokenizerFiles.TokenizerJson);
        var tokenizerModel = Path.Combine(spec, "tokenizer.model");
        var vocabJson = Path.Combine(spec, "vocab.json");
        var mergesTxt = Path.Combine(spec, "merges.txt");
        // Llama 2 folders carry a SentencePiece-style tokenizer.json too; its tokenizer.model is the real one.
        if (File.Exists(tokenizerJson) && (!File.Exists(tokenizerModel) || ByteLevelBpeLoader.IsByteLevel(tokenizerJson)))
            return ByteLevelBpeLoader.LoadTokenizerJson(tokenizerJson, config);
        if (File.Exists(tokenizerModel))
            return SentencePieceLoader.Load(tokenizerModel, config);
        if (File.Exists(vocabJson) || File.Exists(mergesTxt))
            return ByteLevelBpeLoader.LoadVocabAndMerges(vocabJson, mergesTxt, config);
        throw new UserInputException($"{spec}: no tokenizer.json, tokenizer.model or vocab.json + merges.txt in the folder");
    }
}
