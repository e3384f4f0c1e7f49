using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Core.Modeling;

/// <summary>What `stune model init` does: tokenizer files, a preset config sized to that vocabulary, seeded weights.</summary>
public static class ModelInitializer
{
    public const string DefaultTokenizer = "gpt2";

    public sealed record Result(ModelConfig Config, long Parameters, TokenizerFileSet Tokenizer);

    public static Result Run(string arch, string preset, string outDir, long seed, string? tokenizerSpec = null)
    {
        // Validate the arch/preset before writing anything.
        ModelPresets.Create(arch, preset, vocabSize: 1);
        Directory.CreateDirectory(outDir);
        var tokenizer = TokenizerFiles.Write(tokenizerSpec ?? DefaultTokenizer, outDir, ModelPresets.ContextLength);
        var config = ModelPresets.Create(arch, preset, tokenizer.VocabSize, tokenizer.BosTokenId, tokenizer.EosTokenId, tokenizer.PadTokenId);
        using var model = CausalLMFactory.Create(config, seed: seed);
        Checkpoint.Save(model, outDir);
        return new Result(config, model.ParameterCount(), tokenizer);
    }
}
