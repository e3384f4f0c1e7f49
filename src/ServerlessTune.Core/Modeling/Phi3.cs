using ServerlessTune.Core.Modeling.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling;

/// <summary>Phi3ForCausalLM: the Llama stack with fused qkv_proj and gate_up_proj and no biases.</summary>
public sealed class Phi3 : Llama
{
    public Phi3(ModelConfig config, ScalarType dtype)
        : base(nameof(Phi3), config, dtype,
            layer => new Phi3Attention(config, layer, dtype),
            () => new Phi3Mlp(config, dtype))
    {
    }
}

/// <summary>One qkv_proj whose output rows are q, then k, then v.</summary>
sealed class Phi3Attention : RotarySelfAttention
{
    readonly LinearLayer qkv_proj;

    public Phi3Attention(ModelConfig config, int layer, ScalarType dtype) : base(nameof(Phi3Attention), config, layer, "o_proj", dtype)
    {
        qkv_proj = new LinearLayer(config.HiddenSize, (config.NumHeads + 2L * config.NumKvHeads) * config.HeadDim, false, dtype);
        register_module(nameof(qkv_proj), qkv_proj);
    }

    protected override (Tensor Q, Tensor K, Tensor V) Project(Tensor x)
    {
        using var qkv = qkv_proj.forward(x);
        long q = (long)config.NumHeads * config.HeadDim, kv = (long)config.NumKvHeads * config.HeadDim;
        return (qkv.narrow(-1, 0, q), qkv.narrow(-1, q, kv), qkv.narrow(-1, q + kv, kv));
    }
}

/// <summary>gate_up_proj holds gate rows then up rows: down_proj(up * act(gate)).</summary>
sealed class Phi3Mlp : nn.Module<Tensor, Tensor>
{
    readonly LinearLayer gate_up_proj, down_proj;
    readonly Func<Tensor, Tensor> act;

    public Phi3Mlp(ModelConfig config, ScalarType dtype) : base(nameof(Phi3Mlp))
    {
        gate_up_proj = new LinearLayer(config.HiddenSize, 2L * config.IntermediateSize, false, dtype);
        down_proj = new LinearLayer(config.IntermediateSize, config.HiddenSize, false, dtype);
        act = Activations.Get(config.HiddenAct, config);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var gateUp = gate_up_proj.forward(x).chunk(2, -1);
        return down_proj.forward(gateUp[1] * act(gateUp[0])).MoveToOuterDisposeScope();
    }
}
