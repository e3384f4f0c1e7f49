using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling.Layers;

/// <summary>
/// The body every architecture shares: token embedding (plus learned positions for GPT-2), the blocks,
/// the final norm, and this pass's rotary tables for rotary models. Children are registered under the
/// checkpoint names each architecture passes in (wte/h/ln_f, embed_tokens/layers/norm).
/// </summary>
public sealed class DecoderStack : nn.Module<Tensor, AttentionContext, KvCache?, Tensor>
{
    readonly EmbeddingLayer tokens;
    readonly EmbeddingLayer? positions;
    readonly ModuleList<nn.Module<Tensor, AttentionContext, KvCache?, Tensor>> blocks;
    readonly nn.Module<Tensor, Tensor> norm;
    readonly RotaryEmbedding? rotary;
    readonly double dropout;

    public DecoderStack(
        (string Name, EmbeddingLayer Module) tokens,
        (string Name, EmbeddingLayer Module)? positions,
        (string Name, IEnumerable<nn.Module<Tensor, AttentionContext, KvCache?, Tensor>> Modules) blocks,
        (string Name, nn.Module<Tensor, Tensor> Module) norm,
        RotaryEmbedding? rotary,
        double embeddingDropout) : base(nameof(DecoderStack))
    {
        dropout = embeddingDropout;
        this.tokens = tokens.Module;
        this.positions = positions?.Module;
        this.blocks = nn.ModuleList(blocks.Modules.ToArray());
        this.norm = norm.Module;
        this.rotary = rotary;
        register_module(tokens.Name, tokens.Module);
        if (positions is { } p) register_module(p.Name, p.Module);
        register_module(blocks.Name, this.blocks);
        register_module(norm.Name, norm.Module);
    }

    public EmbeddingLayer TokenEmbedding => tokens;

    // Children are registered under checkpoint names above; the field names must not add a second copy.
    protected override void RegisterComponents() { }

    public override Tensor forward(Tensor inputIds, AttentionContext context, KvCache? cache)
    {
        using var scope = NewDisposeScope();
        if (rotary is not null)
        {
            var (cos, sin) = rotary.Compute(context.PositionIds, tokens.Weight.dtype);
            context = context with { Rotary = rotary, Cos = cos, Sin = sin };
        }
        var x = tokens.forward(inputIds);
        if (positions is not null)
        {
            // Positions come from the mask, so in a left-padded batch they are below the cache length.
            long last = context.PositionIds.max().item<long>();
            if (last >= positions.Weight.shape[0])
                throw new ArgumentException($"position {last} is past the {positions.Weight.shape[0]} learned positions of this model");
            x = x + positions.forward(context.PositionIds);
        }
        x = nn.functional.dropout(x, dropout, training);
        foreach (var block in blocks)
            x = block.forward(x, context, cache);
        return norm.forward(x).MoveToOuterDisposeScope();
    }
}
