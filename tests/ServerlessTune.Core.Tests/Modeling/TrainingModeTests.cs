using ServerlessTune.Core.Modeling;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests.Modeling;

public class TrainingModeTests
{
    [Fact]
    public void Gpt2_dropout_is_active_only_in_training()
    {
        // GPT-2's config defaults: embd_pdrop = attn_pdrop = resid_pdrop = 0.1
        using var model = ModelFixtures.TinyModel("gpt2");
        Assert.Equal((0.1, 0.1, 0.1), (model.Config.EmbeddingDropout, model.Config.AttentionDropout, model.Config.ResidualDropout));
        using var ids = tensor(new long[] { 1, 2, 3, 4, 5 }).reshape(1, 5);
        using var evalA = model.forward(ids);
        using var evalB = model.forward(ids);
        Assert.True(ModelFixtures.BitEqual(evalA, evalB));

        model.train();
        using var trainA = model.forward(ids);
        using var trainB = model.forward(ids);
        Assert.False(trainA.allclose(trainB, rtol: 0, atol: 1e-6));
        Assert.False(trainA.allclose(evalA, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Llama_has_no_dropout_by_default_so_training_mode_changes_nothing()
    {
        using var model = ModelFixtures.TinyModel("llama");
        using var ids = tensor(new long[] { 1, 2, 3, 4, 5 }).reshape(1, 5);
        using var eval = model.forward(ids);
        model.train();
        using var train = model.forward(ids);
        Assert.True(ModelFixtures.BitEqual(eval, train));
    }

    [Fact]
    public void Dropout_probability_out_of_range_is_refused()
    {
        var json = ModelFixtures.TinyJson("gpt2");
        json["resid_pdrop"] = 1.5;
        var ex = Assert.Throws<UserInputException>(() => ModelConfig.FromJson(json, "cfg.json"));
        Assert.Equal("cfg.json: key 'resid_pdrop': a dropout probability must be in [0, 1), got 1.5", ex.Message);
    }
}
