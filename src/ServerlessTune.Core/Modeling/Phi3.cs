using System.Text.RegularExpressions;
using ServerlessTune.Core.Modeling.Kernels;
using ServerlessTune.Core.Modeling.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static ServerlessTune.Core.Modeling.Layers.ScaledDotProductAttention;

namespace ServerlessTune.Core.Modeling;

// Phi3ForCausalLM as Transformers' modeling_phi3.py builds it: the Llama layout with fused projections
// (qkv_proj, gate_up_proj), no biases, optional partial rotary, and dropout after the embeddings and on each
// layer's attention and MLP output (embd_pdrop, resid_pdrop). Field names are the checkpoint keys.

/// <summary>One qkv_proj whose output rows are q, then k, then v (num_key_value_heads each for k and v), then o_proj.</summary>
sealed class Phi3Attention : nn.Module<Tensor, AttentionContext, KvCache?, Tensor>
{
    readonly LinearLayer qkv_proj, o_proj;
    readonly int layer, heads, kvHeads, headDim;
    readonly double dropout;

    public Phi3Attention(ModelConfig config, int layer, ScalarType dtype) : base(nameof(Phi3Attention))
    {
        long q = (long)config.NumHeads * config.HeadDim, kv = (long)config.NumKvHeads * config.HeadDim;
        qkv_proj = new LinearLayer(config.HiddenSize, q + 2 * kv, hasBias: false, dtype);
        o_proj = new LinearLayer(q, config.HiddenSize, hasBias: false, dtype);
        (this.layer, heads, kvHeads, headDim, dropout) = (layer, config.NumHeads, config.NumKvHeads, config.HeadDim, config.AttentionDropout);
        // Seeded initialisation draws in registration order, and o_proj has always been drawn first.
        register_module(nameof(o_proj), o_proj);
        RegisterComponents();
    }

    /// <summary>The products a .NET decode step multiplies by, or null when one is not packed or attention dropout applies.</summary>
    internal DecodeAttention? DecodeStep() =>
        qkv_proj.DecodeProduct is var (w, b) && o_proj.DecodeProduct is var (o, ob) && !(training && dropout > 0)
            ? new DecodeAttention(layer, heads, kvHeads, headDim, w, b, o, ob)
            : null;

    public override Tensor forward(Tensor x, AttentionContext context, KvCache? cache)
    {
        var qkv = qkv_proj.forward(x);
        long qWidth = heads * headDim, kvWidth = kvHeads * headDim;
        var q = RotaryEmbedding.Apply(SplitHeads(qkv.narrow(-1, 0, qWidth), heads, headDim), context);
        var k = RotaryEmbedding.Apply(SplitHeads(qkv.narrow(-1, qWidth, kvWidth), kvHeads, headDim), context);
        var v = SplitHeads(qkv.narrow(-1, qWidth + kvWidth, kvWidth), kvHeads, headDim);
        return o_proj.forward(Attend(q, k, v, context, cache, layer, training ? dropout : 0));
    }
}

/// <summary>gate_up_proj holds the gate rows, then the up rows: down_proj(up * act(gate)).</summary>
sealed class Phi3Mlp : nn.Module<Tensor, Tensor>
{
    readonly LinearLayer gate_up_proj, down_proj;
    readonly Func<Tensor, Tensor> act;
    readonly bool silu;

    public Phi3Mlp(ModelConfig config, ScalarType dtype) : base(nameof(Phi3Mlp))
    {
        gate_up_proj = new LinearLayer(config.HiddenSize, 2L * config.IntermediateSize, hasBias: false, dtype);
        down_proj = new LinearLayer(config.IntermediateSize, config.HiddenSize, hasBias: false, dtype);
        act = Activations.Get(config.HiddenAct, config);
        silu = Activations.IsSilu(config.HiddenAct);
        RegisterComponents();
    }

    /// <summary>The products a .NET decode step multiplies by, or null when one is not packed or the gate is not SiLU.</summary>
    internal DecodeMlp? DecodeStep() =>
        silu && gate_up_proj.DecodeProduct is var (w, b) && down_proj.DecodeProduct is var (d, db) ? new DecodeMlp(w, b, d, db) : null;

    public override Tensor forward(Tensor x)
    {
        var gateUp = gate_up_proj.forward(x).chunk(2, -1);
        return down_proj.forward(gateUp[1] * act(gateUp[0]));
    }
}

/// <summary>x + dropout(self_attn(input_layernorm(x))), then + dropout(mlp(post_attention_layernorm(x))).</summary>
sealed class Phi3DecoderLayer : nn.Module<Tensor, AttentionContext, KvCache?, Tensor>
{
    readonly RmsNorm input_layernorm;
    readonly Phi3Attention self_attn;
    readonly RmsNorm post_attention_layernorm;
    readonly Phi3Mlp mlp;
    readonly double dropout;

    public Phi3DecoderLayer(ModelConfig config, int layer, ScalarType dtype) : base(nameof(Phi3DecoderLayer))
    {
        input_layernorm = new RmsNorm(config.HiddenSize, config.NormEps, dtype);
        self_attn = new Phi3Attention(config, layer, dtype);
        post_attention_layernorm = new RmsNorm(config.HiddenSize, config.NormEps, dtype);
        mlp = new Phi3Mlp(config, dtype);
        dropout = config.ResidualDropout;
        RegisterComponents();
    }

    /// <summary>This layer for a .NET decode step, or null when residual dropout applies or its attention or MLP cannot run there.</summary>
    internal DecodeLayer? DecodeStep() =>
        !(training && dropout > 0) && self_attn.DecodeStep() is { } attention && mlp.DecodeStep() is { } gated
            ? new DecodeLayer(input_layernorm, attention, post_attention_layernorm, gated)
            : null;

    public override Tensor forward(Tensor x, AttentionContext context, KvCache? cache)
    {
        if (GatedDecoderStep.Accepts(x, context, cache, out var slots, out var rows) && DecodeStep() is { } step)
            return GatedDecoderStep.Run(x, context, slots, rows, step);
        using var scope = NewDisposeScope();
        x = x + nn.functional.dropout(self_attn.forward(input_layernorm.forward(x), context, cache), dropout, training);
        return (x + nn.functional.dropout(mlp.forward(post_attention_layernorm.forward(x)), dropout, training)).MoveToOuterDisposeScope();
    }
}

/// <summary>embed_tokens, the decoder layers, the final norm; this pass's rotary tables are shared by every layer.</summary>
sealed class Phi3Model : nn.Module<Tensor, AttentionContext, KvCache?, Tensor>
{
    internal readonly EmbeddingLayer embed_tokens;
    readonly ModuleList<Phi3DecoderLayer> layers;
    readonly RmsNorm norm;
    readonly RotaryEmbedding rotary_emb;
    readonly double dropout;

    public Phi3Model(ModelConfig config, ScalarType dtype) : base(nameof(Phi3Model))
    {
        embed_tokens = new EmbeddingLayer(config.VocabSize, config.HiddenSize, dtype);
        layers = nn.ModuleList(Enumerable.Range(0, config.NumLayers).Select(i => new Phi3DecoderLayer(config, i, dtype)).ToArray());
        norm = new RmsNorm(config.HiddenSize, config.NormEps, dtype);
        rotary_emb = new RotaryEmbedding(config.RotaryDim, config.RopeTheta, config.RopeScaling, interleaved: false);
        dropout = config.EmbeddingDropout;
        RegisterComponents();
    }

    /// <summary>The body for a .NET decode pass with the given head, or null when a part cannot run there (embedding
    /// dropout in training included: the pass runs in inference only).</summary>
    internal DecodeModel? DecodeModel((PackedWeight, Tensor?)? head) =>
        Kernels.DecodeModel.Of(embed_tokens, layers.Select(layer => layer.DecodeStep()), norm, rotary_emb, head);

    public override Tensor forward(Tensor input_ids, AttentionContext context, KvCache? cache)
    {
        using var scope = NewDisposeScope();
        context = rotary_emb.WithTables(context, embed_tokens.Weight.dtype);
        var x = nn.functional.dropout(embed_tokens.forward(input_ids), dropout, training);
        foreach (var layer in layers)
            x = layer.forward(x, context, cache);
        return norm.forward(x).MoveToOuterDisposeScope();
    }
}

/// <summary>Phi3ForCausalLM: the body under "model", an untied lm_head unless tie_word_embeddings says otherwise.</summary>
public sealed class Phi3 : CausalLM
{
    readonly Phi3Model model;
    readonly LinearLayer? lm_head;

    public Phi3(ModelConfig config, ScalarType dtype) : base(nameof(Phi3), config, dtype, baseModelPrefix: "model")
    {
        model = new Phi3Model(config, dtype);
        lm_head = UntiedHead(config, dtype);
        RegisterComponents();
    }

    protected override Tensor Hidden(Tensor input_ids, AttentionContext context, KvCache? cache) =>
        model.forward(input_ids, context, cache);

    protected override Tensor Logits(Tensor hidden) => Head(hidden, lm_head, model.embed_tokens);

    protected override EmbeddingLayer? TiedHeadTable => lm_head is null ? model.embed_tokens : null;

    internal override DecodeModel? DecodeModel() => model.DecodeModel(DecodeHead(lm_head));

    protected override Regex? LegacyBuffers => Llama.RotaryBuffers();
}
