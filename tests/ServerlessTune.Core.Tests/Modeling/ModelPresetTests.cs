using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Core.Tests.Modeling;

public class ModelPresetTests
{
    [Theory]
    [InlineData("gpt2")]
    [InlineData("gptj")]
    [InlineData("llama")]
    [InlineData("qwen2")]
    [InlineData("phi3")]
    public void Presets_have_the_promised_shape(string arch)
    {
        var tiny = ModelPresets.Create(arch, "tiny", 50259);
        Assert.Equal((64, 2, 4, 256), (tiny.HiddenSize, tiny.NumLayers, tiny.NumHeads, tiny.MaxPositions));
        var small = ModelPresets.Create(arch, "small", 50259);
        Assert.Equal((512, 8, 8, 256), (small.HiddenSize, small.NumLayers, small.NumHeads, small.MaxPositions));
        var count = ParameterCounter.Count(small);
        Assert.InRange(count, 30_000_000, arch == "gptj" ? 80_000_000 : 60_000_000);
    }

    [Fact]
    public void Unknown_arch_and_preset_are_user_errors()
    {
        Assert.StartsWith("--arch: 'bert'", Assert.Throws<UserInputException>(() => ModelPresets.Create("bert", "tiny", 100)).Message);
        Assert.StartsWith("--preset: 'huge'", Assert.Throws<UserInputException>(() => ModelPresets.Create("llama", "huge", 100)).Message);
    }

    [Fact]
    public void Init_writes_a_loadable_checkpoint_and_is_deterministic_per_seed()
    {
        using var first = new ModelTempDir();
        using var second = new ModelTempDir();
        using var third = new ModelTempDir();
        var result = ModelInitializer.Run("llama", "tiny", first.Path, seed: 42);
        ModelInitializer.Run("llama", "tiny", second.Path, seed: 42);
        ModelInitializer.Run("llama", "tiny", third.Path, seed: 43);

        var weights = File.ReadAllBytes(Path.Combine(first.Path, "model.safetensors"));
        Assert.Equal(weights, File.ReadAllBytes(Path.Combine(second.Path, "model.safetensors")));
        Assert.NotEqual(weights, File.ReadAllBytes(Path.Combine(third.Path, "model.safetensors")));

        foreach (var file in new[] { "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json" })
            Assert.True(File.Exists(Path.Combine(first.Path, file)), file);
        using var model = Checkpoint.Load(first.Path);
        var tokenizer = TokenizerLoader.Load(first.Path);
        Assert.Equal(tokenizer.VocabSize, model.Config.VocabSize);
        Assert.Equal(tokenizer.EosTokenId, model.Config.EosTokenId);
        Assert.Equal(result.Parameters, ParameterCounter.Count(model.Config));

        // Transformers' init: unit norms, normal(0, 0.02) projections.
        var state = model.state_dict();
        Assert.True(state["model.norm.weight"].eq(1).all().item<bool>());
        var std = state["model.layers.0.mlp.up_proj.weight"].std().item<float>();
        Assert.InRange(std, 0.018, 0.022);
    }
}
