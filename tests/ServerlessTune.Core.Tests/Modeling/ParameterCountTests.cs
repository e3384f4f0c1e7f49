using ServerlessTune.Core.Modeling;

namespace ServerlessTune.Core.Tests.Modeling;

public class ParameterCountTests
{
    [Theory]
    [InlineData("gpt2", "gpt2", 124_439_808L)]
    [InlineData("smollm2-135m", "llama", 134_515_008L)]
    [InlineData("qwen2.5-0.5b", "qwen2", 494_032_768L)]
    [InlineData("tinyllama-1.1b", "llama", 1_100_048_384L)]
    [InlineData("gpt-j-6b", "gptj", 6_050_882_784L)]
    [InlineData("phi-3-mini-4k", "phi3", 3_821_079_552L)]
    [InlineData("llama-3.2-1b", "llama", 1_235_814_400L)]
    public void Count_from_public_config_equals_official_checkpoint(string fixture, string modelType, long expected)
    {
        var config = ModelConfig.Load(ModelFixtures.PublicConfig(fixture));
        Assert.Equal(modelType, config.ModelType);
        Assert.Equal(expected, ParameterCounter.Count(config));
    }

    [Theory]
    [MemberData(nameof(ModelFixtures.TinyArchitectures), MemberType = typeof(ModelFixtures))]
    public void Count_from_config_equals_numel_of_instantiated_model(string arch)
    {
        using var model = ModelFixtures.TinyModel(arch);
        Assert.Equal(model.parameters().Sum(p => p.numel()), ParameterCounter.Count(model.Config));
    }

    [Theory]
    [InlineData("gpt2", false)]
    [InlineData("llama", false)]
    [InlineData("qwen2", true)]
    public void Untied_head_adds_vocab_times_hidden(string arch, bool alreadyUntied)
    {
        var json = ModelFixtures.TinyJson(arch);
        json["tie_word_embeddings"] = alreadyUntied;
        var flipped = ModelConfig.FromJson(json, "flipped");
        var difference = ParameterCounter.Count(flipped) - ParameterCounter.Count(ModelFixtures.Tiny(arch));
        Assert.Equal((alreadyUntied ? -1 : 1) * 97L * 32, difference);
        using var model = CausalLMFactory.Create(flipped);
        Assert.Equal(model.ParameterCount(), ParameterCounter.Count(flipped));
    }
}
