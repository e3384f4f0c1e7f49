namespace ServerlessTune.Core.Tokenization;

internal static class SpecialTokenResolver
{
    /// <summary>Ids of tokenizer_config.json's bos/eos/pad tokens, looked up among added tokens, then the vocabulary.</summary>
    public static SpecialTokenIds Resolve(TokenizerConfig config, IReadOnlyDictionary<string, int> added,
        IReadOnlyDictionary<string, int> vocab)
    {
        int? Find(string? token, string key)
        {
            if (token is null)
                return null;
            if (added.TryGetValue(token, out var id) || vocab.TryGetValue(token, out id))
                return id;
            throw new UserInputException($"{config.SourcePath ?? TokenizerFiles.TokenizerConfigJson}: {key} '{token}' is not in the vocabulary");
        }
        return new SpecialTokenIds(Find(config.BosToken, "bos_token"), Find(config.EosToken, "eos_token"), Find(config.PadToken, "pad_token"));
    }
}
