using System.Text.RegularExpressions;
using ServerlessTune.Core.Modeling.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static ServerlessTune.Core.Modeling.Layers.ScaledDotProductAttention;
using LayerNorm = ServerlessTune.Core.Modeling.Layers.LayerNorm;

namespace ServerlessTune.Core.Modeling;

// GPTJForCausalLM as Transformers' modeling_gptj.py builds it: attention and MLP run in parallel on the same
// ln_1 output; rotary on the first rotary_dim dims of each head, rotating interleaved pairs; no biases in
// attention; an untied lm_head with a bias. Field names are the checkpoint keys.

/// <summary>Separate q_proj, k_proj, v_proj, rotary on q and k, out_proj.</summary>
sealed class GptJAttention : nn.Module<Tensor, AttentionContext, KvCache?, Tensor>, IFusesProjections
{
    readonly LinearLayer q_proj, k_proj, v_proj, out_proj;
    FusedProjection? qkv;
    readonly int layer, heads, headDim;
    readonly double attnDropout, residDropout;

    public GptJAttention(ModelConfig config, int layer, ScalarType dtype) : base(nameof(GptJAttention))
    {
        q_proj = new LinearLayer(config.HiddenSize, config.HiddenSize, hasBias: false, dtype);
        k_proj = new LinearLayer(config.HiddenSize, config.HiddenSize, hasBias: false, dtype);
        v_proj = new LinearLayer(config.HiddenSize, config.HiddenSize, hasBias: false, dtype);
        out_proj = new LinearLayer(config.HiddenSize, config.HiddenSize, hasBias: false, dtype);
        (this.layer, heads, headDim) = (layer, config.NumHeads, config.HeadDim);
        (attnDropout, residDropout) = (config.AttentionDropout, config.ResidualDropout);
        // Seeded initialisation draws in registration order, and out_proj has always been drawn first.
        register_module(nameof(out_proj), out_proj);
        RegisterComponents();
    }

    public void FuseProjections(WeightFormat format) => (qkv ??= FusedProjection.Create(q_proj, k_proj, v_proj))?.Pack(format);

    public IEnumerable<FusedProjection> FusedProducts() => qkv is null ? [] : [qkv];

    protected override void Dispose(bool disposing)
    {
        if (disposing) qkv?.Dispose();
        base.Dispose(disposing);
    }

    public override Tensor forward(Tensor x, AttentionContext context, KvCache? cache)
    {
        var projected = qkv?.Forward(x) ?? [q_proj.forward(x), k_proj.forward(x), v_proj.forward(x)];
        var q = RotaryEmbedding.Apply(SplitHeads(projected[0], heads, headDim), context);
        var k = RotaryEmbedding.Apply(SplitHeads(projected[1], heads, headDim), context);
        var v = SplitHeads(projected[2], heads, headDim);
        var y = Attend(q, k, v, context, cache, layer, training ? attnDropout : 0);
        return nn.functional.dropout(out_proj.forward(y), residDropout, training);
    }
}

/// <summary>fc_out(act(fc_in(x))).</summary>
sealed class GptJMlp : nn.Module<Tensor, Tensor>
{
    readonly LinearLayer fc_in, fc_out;
    readonly Func<Tensor, Tensor> act;
    readonly double dropout;

    public GptJMlp(ModelConfig config, ScalarType dtype) : base(nameof(GptJMlp))
    {
        fc_in = new LinearLayer(config.HiddenSize, config.IntermediateSize, hasBias: true, dtype);
        fc_out = new LinearLayer(config.IntermediateSize, config.HiddenSize, hasBias: true, dtype);
        act = Activations.Get(config.HiddenAct, config);
        dropout = config.ResidualDropout;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => nn.functional.dropout(fc_out.forward(act(fc_in.forward(x))), dropout, training);
}

/// <summary>The parallel block: x + attn(ln_1(x)) + mlp(ln_1(x)).</summary>
sealed class GptJBlock : nn.Module<Tensor, AttentionContext, KvCache?, Tensor>
{
    readonly LayerNorm ln_1;
    readonly GptJAttention attn;
    readonly GptJMlp mlp;

    public GptJBlock(ModelConfig config, int layer, ScalarType dtype) : base(nameof(GptJBlock))
    {
        ln_1 = new LayerNorm(config.HiddenSize, config.NormEps, dtype);
        attn = new GptJAttention(config, layer, dtype);
        mlp = new GptJMlp(config, dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, AttentionContext context, KvCache? cache)
    {
        using var scope = NewDisposeScope();
        var normed = ln_1.forward(x);
        return (attn.forward(normed, context, cache) + mlp.forward(normed) + x).MoveToOuterDisposeScope();
    }
}

/// <summary>Token embedding (wte), the blocks (h), the final ln_f; this pass's rotary tables are shared by every block.</summary>
sealed class GptJModel : nn.Module<Tensor, AttentionContext, KvCache?, Tensor>
{
    readonly EmbeddingLayer wte;
    readonly ModuleList<GptJBlock> h;
    readonly LayerNorm ln_f;
    readonly RotaryEmbedding rotary;
    readonly double dropout;

    public GptJModel(ModelConfig config, ScalarType dtype) : base(nameof(GptJModel))
    {
        wte = new EmbeddingLayer(config.VocabSize, config.HiddenSize, dtype);
        h = nn.ModuleList(Enumerable.Range(0, config.NumLayers).Select(i => new GptJBlock(config, i, dtype)).ToArray());
        ln_f = new LayerNorm(config.HiddenSize, config.NormEps, dtype);
        rotary = new RotaryEmbedding(config.RotaryDim, config.RopeTheta, scaling: null, interleaved: true);
        dropout = config.EmbeddingDropout;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input_ids, AttentionContext context, KvCache? cache)
    {
        using var scope = NewDisposeScope();
        context = rotary.WithTables(context, wte.Weight.dtype);
        var x = nn.functional.dropout(wte.forward(input_ids), dropout, training);
        foreach (var block in h)
            x = block.forward(x, context, cache);
        return ln_f.forward(x).MoveToOuterDisposeScope();
    }
}

/// <summary>GPTJForCausalLM: the body under "transformer" and an lm_head of its own, with a bias.</summary>
public sealed class GptJ : CausalLM
{
    readonly GptJModel transformer;
    readonly LinearLayer lm_head;

    public GptJ(ModelConfig config, ScalarType dtype) : base(nameof(GptJ), config, dtype, baseModelPrefix: "transformer")
    {
        transformer = new GptJModel(config, dtype);
        lm_head = new LinearLayer(config.HiddenSize, config.VocabSize, hasBias: true, dtype);
        RegisterComponents();
    }

    protected override Tensor Hidden(Tensor input_ids, AttentionContext context, KvCache? cache) =>
        transformer.forward(input_ids, context, cache);

    protected override Tensor Logits(Tensor hidden) => lm_head.forward(hidden);

    protected override EmbeddingLayer? TiedHeadTable => null;

    protected override Regex? LegacyBuffers => Gpt2.AttentionBuffers();
}
