using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Modeling.Layers;
using ServerlessTune.Core.Modeling.Peft;
using ServerlessTune.Core.Tests.Training;
using ServerlessTune.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests.Modeling.Peft;

[Collection(GlobalRngCollection.Name)]
public class LoraInjectorTests
{
    static Tensor Ids(int seed) => randint(TinyModels.Vocab, [2, 9], generator: new torch.Generator((ulong)seed)).to(int64);

    static Tensor Logits(CausalLM model, Tensor ids)
    {
        model.eval();
        using var _ = no_grad();
        return model.forward(ids);
    }

    static void RandomizeAdapters(CausalLM model)
    {
        using var _ = no_grad();
        using var g = new torch.Generator(7);
        foreach (var (name, p) in LoraInjector.AdapterParameters(model))
            if (name.Contains("lora_B")) p.copy_(randn(p.shape, generator: g) * 0.1);
    }

    [Theory]
    [InlineData("llama", new[] { "q_proj", "v_proj" }, 8 * (32 + 32) + 8 * (32 + 16))]
    [InlineData("llama", new[] { "gate_proj", "down_proj" }, 8 * (32 + 48) + 8 * (48 + 32))]
    [InlineData("gpt2", new[] { "c_attn" }, 8 * (32 + 96))]
    public void Only_adapters_train_and_their_count_is_r_times_in_plus_out(string arch, string[] targets, int perLayer)
    {
        var model = TinyModels.ByType(arch);
        var trainable = LoraInjector.Attach(model, targets, rank: 8, alpha: 16, dropout: 0);
        Assert.Equal(2 * perLayer, trainable.Sum(t => t.Parameter.numel()));
        Assert.All(trainable, t => Assert.Matches(@"\.lora_[AB]\.weight$", t.Name));
        Assert.Equal(trainable.Count, model.parameters().Count(p => p.requires_grad));
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public void Untrained_adapter_leaves_logits_unchanged(string arch)
    {
        var model = TinyModels.ByType(arch);
        using var ids = Ids(1);
        using var before = Logits(model, ids);
        LoraInjector.Attach(model, ResolvedTrainingOptions.DefaultLoraTargets(arch), rank: 4, alpha: 8, dropout: 0.1);
        using var after = Logits(model, ids);
        Assert.Equal(0f, (after - before).abs().max().item<float>());
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public void Merged_model_gives_the_logits_of_base_plus_adapter(string arch)
    {
        var model = TinyModels.ByType(arch);
        LoraInjector.Attach(model, ResolvedTrainingOptions.DefaultLoraTargets(arch), rank: 4, alpha: 8, dropout: 0);
        RandomizeAdapters(model);
        using var ids = Ids(2);
        using var withAdapter = Logits(model, ids);
        LoraInjector.MergeAll(model);
        Assert.Empty(LoraInjector.AdapterParameters(model));
        using var merged = Logits(model, ids);
        Assert.True((merged - withAdapter).abs().max().item<float>() < 1e-4f);
        Assert.True((withAdapter - Logits(TinyModels.ByType(arch), ids)).abs().max().item<float>() > 1e-3f, "the adapter must change the logits for this test to mean anything");
    }

    [Fact]
    public void Training_steps_change_adapters_but_not_base_weights()
    {
        manual_seed(3);
        var model = TinyModels.Llama();
        var baseBefore = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        var trainable = LoraInjector.Attach(model, ["q_proj", "v_proj"], rank: 4, alpha: 8, dropout: 0.1);
        var adaptersBefore = trainable.ToDictionary(t => t.Name, t => t.Parameter.detach().clone());
        var optimizer = OptimizerFactory.Create(trainable, 1e-2, 0.01);
        model.train();
        var example = new TrainingExample("t", 1, [1, 5, 9, 12, 7, 3], [false, false, false, true, true, true]);
        for (int step = 0; step < 3; step++)
        {
            using var batch = BatchCollator.Collate([example, example], padTokenId: 0);
            TrainingStep.Run(model, [batch], optimizer, trainable.Select(t => t.Parameter).ToList(), 1e-2, 1.0);
        }
        foreach (var (name, p) in model.named_parameters().Where(p => !LoraInjector.IsAdapterTensor(p.name)))
            Assert.Equal(baseBefore[name].data<float>().ToArray(), p.data<float>().ToArray());
        Assert.All(trainable.Where(t => t.Name.Contains("lora_B")), t =>
            Assert.NotEqual(adaptersBefore[t.Name].data<float>().ToArray(), t.Parameter.data<float>().ToArray()));
    }

    [Fact]
    public void Unknown_target_names_the_pattern_and_the_projections_that_exist()
    {
        var ex = Assert.Throws<UserInputException>(() => LoraInjector.Attach(TinyModels.Llama(), ["q_proj", "qkv"], 4, 8, 0));
        Assert.Equal("--lora-targets: no projection named 'qkv' in this model; it has down_proj, gate_proj, k_proj, lm_head, o_proj, q_proj, up_proj, v_proj", ex.Message);
    }

    [Fact]
    public void Full_names_and_suffixes_match_like_peft()
    {
        Assert.True(LoraInjector.Matches("model.layers.0.self_attn.q_proj", "q_proj"));
        Assert.True(LoraInjector.Matches("model.layers.0.self_attn.q_proj", "self_attn.q_proj"));
        Assert.False(LoraInjector.Matches("model.layers.0.self_attn.q_proj", "proj"));
        Assert.True(FindsOnlyLayer0(TinyModels.Llama()));
    }

    static bool FindsOnlyLayer0(CausalLM model) =>
        LoraInjector.FindTargets(model, ["layers.0.self_attn.q_proj"]).Select(t => t.Name).SequenceEqual(["model.layers.0.self_attn.q_proj"]);
}
