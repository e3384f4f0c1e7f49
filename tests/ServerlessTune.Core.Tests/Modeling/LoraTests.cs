using ServerlessTune.Core.Modeling;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests.Modeling;

public class LoraTests
{
    static Tensor Ids() => tensor(new long[] { 5, 17, 3, 88, 41, 9 }).reshape(1, 6);

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    [InlineData("phi3")]
    public void Adapter_starts_as_identity_and_merges_into_the_same_function(string arch)
    {
        using var model = ModelFixtures.TinyModel(arch);
        using var noGrad = no_grad();
        using var ids = Ids();
        using var before = model.forward(ids);

        manual_seed(4);
        foreach (var (_, layer) in model.Projections())
            layer.AttachLora(rank: 4, alpha: 8, dropout: 0.0);
        using var attached = model.forward(ids);
        Assert.True(ModelFixtures.BitEqual(attached, before), "B = 0 must leave the model unchanged");

        foreach (var (name, tensor) in model.state_dict().Where(kv => kv.Key.Contains("lora_B")))
            tensor.normal_(0, 0.1);
        using var adapted = model.forward(ids);
        Assert.False(adapted.allclose(before, rtol: 0, atol: 1e-3));

        foreach (var (_, layer) in model.Projections())
            layer.MergeLora();
        using var merged = model.forward(ids);
        Assert.True(merged.allclose(adapted, rtol: 0, atol: 1e-5), "merged weights must compute what the adapter computed");
        Assert.DoesNotContain(model.state_dict().Keys, k => k.Contains("lora_"));
        Assert.Equal(ParameterCounter.Count(model.Config), model.ParameterCount());
    }

    [Fact]
    public void Adapter_tensors_carry_peft_names_and_shapes()
    {
        using var model = ModelFixtures.TinyModel("llama");
        var qProj = model.Projections().Single(p => p.Name == "model.layers.0.self_attn.q_proj").Layer;
        var kProj = model.Projections().Single(p => p.Name == "model.layers.0.self_attn.k_proj").Layer;
        qProj.AttachLora(4, 16, 0.05);
        kProj.AttachLora(4, 16, 0.05);
        var state = model.state_dict();
        Assert.Equal([4L, 32], state["model.layers.0.self_attn.q_proj.lora_A.weight"].shape);
        Assert.Equal([32L, 4], state["model.layers.0.self_attn.q_proj.lora_B.weight"].shape);
        Assert.Equal([16L, 4], state["model.layers.0.self_attn.k_proj.lora_B.weight"].shape);
        Assert.True(state["model.layers.0.self_attn.q_proj.lora_B.weight"].count_nonzero().item<long>() == 0);
        Assert.True(qProj.HasLora);
        Assert.Throws<InvalidOperationException>(() => Checkpoint.Save(model, Path.GetTempPath()));
    }

    [Fact]
    public void Only_adapter_weights_get_gradients_when_the_base_is_frozen()
    {
        using var model = ModelFixtures.TinyModel("qwen2");
        foreach (var p in model.parameters()) p.requires_grad = false;
        var (_, layer) = model.Projections().First(p => p.Name.EndsWith("v_proj"));
        layer.AttachLora(2, 4, 0.0);
        model.train();
        using var logits = model.forward(Ids());
        using var loss = logits.square().mean();
        loss.backward();
        var withGrad = model.named_parameters().Where(p => p.parameter.grad is not null).Select(p => p.name).Order().ToList();
        Assert.Equal(["model.layers.0.self_attn.v_proj.lora_A.weight", "model.layers.0.self_attn.v_proj.lora_B.weight"], withGrad);
    }

    [Fact]
    public void Adapter_dropout_follows_the_model_mode()
    {
        using var model = ModelFixtures.TinyModel("llama");
        foreach (var (_, layer) in model.Projections())
            layer.AttachLora(4, 8, dropout: 0.5);
        foreach (var (name, tensor) in model.state_dict().Where(kv => kv.Key.Contains("lora_B")))
            tensor.detach().normal_(0, 0.1);
        using var ids = Ids();
        using var evalA = model.forward(ids);
        using var evalB = model.forward(ids);
        Assert.True(ModelFixtures.BitEqual(evalA, evalB), "an eval model must not drop adapter inputs");
        model.train();
        using var trainA = model.forward(ids);
        using var trainB = model.forward(ids);
        Assert.False(trainA.allclose(trainB, rtol: 0, atol: 1e-6));
    }
}
