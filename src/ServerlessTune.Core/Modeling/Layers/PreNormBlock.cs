using TorchSharp;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling.Layers;

/// <summary>
/// x + attn(norm1(x)), then + mlp(norm2(x)): the block of GPT-2 (ln_1, attn, ln_2, mlp) and of
/// Llama/Qwen2/Phi-3 (input_layernorm, self_attn, post_attention_layernorm, mlp). Names are checkpoint keys.
/// In training, both sublayer outputs go through dropout before the residual add (resid_pdrop).
/// </summary>
public sealed class PreNormBlock : nn.Module<Tensor, AttentionContext, KvCache?, Tensor>
{
    readonly nn.Module<Tensor, Tensor> norm1, norm2, mlp;
    readonly nn.Module<Tensor, AttentionContext, KvCache?, Tensor> attention;
    readonly double dropout;

    public PreNormBlock(
        (string Name, nn.Module<Tensor, Tensor> Module) norm1,
        (string Name, nn.Module<Tensor, AttentionContext, KvCache?, Tensor> Module) attention,
        (string Name, nn.Module<Tensor, Tensor> Module) norm2,
        (string Name, nn.Module<Tensor, Tensor> Module) mlp,
        double dropout) : base(nameof(PreNormBlock))
    {
        this.dropout = dropout;
        (this.norm1, this.attention, this.norm2, this.mlp) = (norm1.Module, attention.Module, norm2.Module, mlp.Module);
        register_module(norm1.Name, norm1.Module);
        register_module(attention.Name, attention.Module);
        register_module(norm2.Name, norm2.Module);
        register_module(mlp.Name, mlp.Module);
    }

    // Children are registered under checkpoint names above; the field names must not add a second copy.
    protected override void RegisterComponents() { }

    public override Tensor forward(Tensor x, AttentionContext context, KvCache? cache)
    {
        using var scope = NewDisposeScope();
        x = x + nn.functional.dropout(attention.forward(norm1.forward(x), context, cache), dropout, training);
        return (x + nn.functional.dropout(mlp.forward(norm2.forward(x)), dropout, training)).MoveToOuterDisposeScope();
    }
}
