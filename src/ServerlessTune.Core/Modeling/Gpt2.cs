using System.Text.RegularExpressions;
using ServerlessTune.Core.Modeling.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static ServerlessTune.Core.Modeling.Layers.ScaledDotProductAttention;
using LayerNorm = ServerlessTune.Core.Modeling.Layers.LayerNorm;

namespace ServerlessTune.Core.Modeling;

// GPT2LMHeadModel as Transformers' modeling_gpt2.py builds it: learned positions, pre-LayerNorm blocks,
// Conv1D projections (weights stored [in, out]), lm_head tied to wte. Field names are the checkpoint keys.

/// <summary>Causal self-attention: c_attn projects to q, k and v side by side, c_proj projects back.</summary>
sealed class Gpt2Attention : nn.Module<Tensor, AttentionContext, KvCache?, Tensor>
{
    readonly LinearLayer c_attn, c_proj;
    readonly int layer, heads, headDim;
    readonly double attnDropout, residDropout;

    public Gpt2Attention(ModelConfig config, int layer, ScalarType dtype) : base(nameof(Gpt2Attention))
    {
        c_attn = new LinearLayer(config.HiddenSize, 3L * config.HiddenSize, hasBias: true, dtype, conv1d: true);
        c_proj = new LinearLayer(config.HiddenSize, config.HiddenSize, hasBias: true, dtype, conv1d: true);
        (this.layer, heads, headDim) = (layer, config.NumHeads, config.HeadDim);
        (attnDropout, residDropout) = (config.AttentionDropout, config.ResidualDropout);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, AttentionContext context, KvCache? cache)
    {
        var qkv = c_attn.forward(x).chunk(3, -1);
        var (q, k, v) = (SplitHeads(qkv[0], heads, headDim), SplitHeads(qkv[1], heads, headDim), SplitHeads(qkv[2], heads, headDim));
        var y = Attend(q, k, v, context, cache, layer, training ? attnDropout : 0);
        return nn.functional.dropout(c_proj.forward(y), residDropout, training);
    }
}

/// <summary>c_proj(act(c_fc(x))), four times the width inside (n_inner).</summary>
sealed class Gpt2Mlp : nn.Module<Tensor, Tensor>
{
    readonly LinearLayer c_fc, c_proj;
    readonly Func<Tensor, Tensor> act;
    readonly double dropout;

    public Gpt2Mlp(ModelConfig config, ScalarType dtype) : base(nameof(Gpt2Mlp))
    {
        c_fc = new LinearLayer(config.HiddenSize, config.IntermediateSize, hasBias: true, dtype, conv1d: true);
        c_proj = new LinearLayer(config.IntermediateSize, config.HiddenSize, hasBias: true, dtype, conv1d: true);
        act = Activations.Get(config.HiddenAct, config);
        dropout = config.ResidualDropout;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => nn.functional.dropout(c_proj.forward(act(c_fc.forward(x))), dropout, training);
}

/// <summary>x + attn(ln_1(x)), then + mlp(ln_2(x)).</summary>
sealed class Gpt2Block : nn.Module<Tensor, AttentionContext, KvCache?, Tensor>
{
    readonly LayerNorm ln_1;
    readonly Gpt2Attention attn;
    readonly LayerNorm ln_2;
    readonly Gpt2Mlp mlp;

    public Gpt2Block(ModelConfig config, int layer, ScalarType dtype) : base(nameof(Gpt2Block))
    {
        ln_1 = new LayerNorm(config.HiddenSize, config.NormEps, dtype);
        attn = new Gpt2Attention(config, layer, dtype);
        ln_2 = new LayerNorm(config.HiddenSize, config.NormEps, dtype);
        mlp = new Gpt2Mlp(config, dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, AttentionContext context, KvCache? cache)
    {
        using var scope = NewDisposeScope();
        x = x + attn.forward(ln_1.forward(x), context, cache);
        return (x + mlp.forward(ln_2.forward(x))).MoveToOuterDisposeScope();
    }
}

/// <summary>Token plus learned position embeddings (wte, wpe), the blocks (h), the final ln_f.</summary>
sealed class Gpt2Model : nn.Module<Tensor, AttentionContext, KvCache?, Tensor>
{
    internal readonly EmbeddingLayer wte;
    readonly EmbeddingLayer wpe;
    readonly ModuleList<Gpt2Block> h;
    readonly LayerNorm ln_f;
    readonly double dropout;

    public Gpt2Model(ModelConfig config, ScalarType dtype) : base(nameof(Gpt2Model))
    {
        wte = new EmbeddingLayer(config.VocabSize, config.HiddenSize, dtype);
        wpe = new EmbeddingLayer(config.MaxPositions, config.HiddenSize, dtype);
        h = nn.ModuleList(Enumerable.Range(0, config.NumLayers).Select(i => new Gpt2Block(config, i, dtype)).ToArray());
        ln_f = new LayerNorm(config.HiddenSize, config.NormEps, dtype);
        dropout = config.EmbeddingDropout;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input_ids, AttentionContext context, KvCache? cache)
    {
        using var scope = NewDisposeScope();
        // Positions come from the mask, so in a left-padded batch they are below the cache length.
        var last = context.PositionIds.max().item<long>();
        if (last >= wpe.Weight.shape[0])
            throw new ArgumentException($"position {last} is past the {wpe.Weight.shape[0]} learned positions of this model");
        var x = nn.functional.dropout(wte.forward(input_ids) + wpe.forward(context.PositionIds), dropout, training);
        foreach (var block in h)
            x = block.forward(x, context, cache);
        return ln_f.forward(x).MoveToOuterDisposeScope();
    }
}

/// <summary>GPT2LMHeadModel: the body under "transformer", lm_head tied to wte unless tie_word_embeddings is false.</summary>
public sealed partial class Gpt2 : CausalLM
{
    readonly Gpt2Model transformer;
    readonly LinearLayer? lm_head;

    public Gpt2(ModelConfig config, ScalarType dtype) : base(nameof(Gpt2), config, dtype, baseModelPrefix: "transformer")
    {
        transformer = new Gpt2Model(config, dtype);
        lm_head = UntiedHead(config, dtype);
        RegisterComponents();
    }

    protected override Tensor Hidden(Tensor input_ids, AttentionContext context, KvCache? cache) =>
        transformer.forward(input_ids, context, cache);

    protected override Tensor Logits(Tensor hidden) => Head(hidden, lm_head, transformer.wte);

    protected override EmbeddingLayer? TiedHeadTable => lm_head is null ? transformer.wte : null;

    protected override Regex? LegacyBuffers => AttentionBuffers();

    // GPT-2 scales the residual output projections by 1/sqrt(2 * n_layer) at init.
    protected override double InitStd(string moduleName) =>
        moduleName.EndsWith(".c_proj", StringComparison.Ordinal)
            ? Config.InitializerRange / Math.Sqrt(2.0 * Config.NumLayers)
            : Config.InitializerRange;

    [GeneratedRegex(@"(^|\.)attn\.(masked_)?bias$")]
    internal static partial Regex AttentionBuffers();
}
