using System.Text.RegularExpressions;
using ServerlessTune.Core.Modeling.Kernels;
using ServerlessTune.Core.Modeling.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static ServerlessTune.Core.Modeling.Layers.ScaledDotProductAttention;

namespace ServerlessTune.Core.Modeling;

// LlamaForCausalLM as Transformers' modeling_llama.py builds it, which also serves the mistral (sliding
// window), qwen2 (q/k/v biases), SmolLM and TinyLlama configs: RMSNorm before attention and MLP, rotary with
// rope_theta and rope_scaling, grouped-query attention, a SwiGLU MLP, a tied or untied head.
// Field names are the checkpoint keys.

/// <summary>q_proj, k_proj, v_proj, rotary on q and k, o_proj; k and v have num_key_value_heads heads (GQA).</summary>
sealed class LlamaAttention : nn.Module<Tensor, AttentionContext, KvCache?, Tensor>, IFusesProjections
{
    readonly LinearLayer q_proj, k_proj, v_proj, o_proj;
    FusedProjection? qkv;
    readonly int layer, heads, kvHeads, headDim;
    readonly double dropout;

    public LlamaAttention(ModelConfig config, int layer, ScalarType dtype) : base(nameof(LlamaAttention))
    {
        long q = (long)config.NumHeads * config.HeadDim, kv = (long)config.NumKvHeads * config.HeadDim;
        q_proj = new LinearLayer(config.HiddenSize, q, config.QkvBias, dtype);
        k_proj = new LinearLayer(config.HiddenSize, kv, config.QkvBias, dtype);
        v_proj = new LinearLayer(config.HiddenSize, kv, config.QkvBias, dtype);
        o_proj = new LinearLayer(q, config.HiddenSize, config.OutputBias, dtype);
        (this.layer, heads, kvHeads, headDim, dropout) = (layer, config.NumHeads, config.NumKvHeads, config.HeadDim, config.AttentionDropout);
        // Seeded initialisation draws in registration order, and o_proj has always been drawn first.
        register_module(nameof(o_proj), o_proj);
        RegisterComponents();
    }

    public void FuseProjections(WeightFormat format) => (qkv ??= FusedProjection.Create(q_proj, k_proj, v_proj))?.Pack(format);

    public IEnumerable<FusedProjection> FusedProducts() => qkv is null ? [] : [qkv];

    /// <summary>The products a .NET decode step multiplies by, or null when one is not packed or attention dropout applies.</summary>
    internal DecodeAttention? DecodeStep() =>
        qkv?.DecodeProduct is var (w, b) && o_proj.DecodeProduct is var (o, ob) && !(training && dropout > 0)
            ? new DecodeAttention(layer, heads, kvHeads, headDim, w, b, o, ob)
            : null;

    public override Tensor forward(Tensor x, AttentionContext context, KvCache? cache)
    {
        var projected = qkv?.Forward(x) ?? [q_proj.forward(x), k_proj.forward(x), v_proj.forward(x)];
        var q = RotaryEmbedding.Apply(SplitHeads(projected[0], heads, headDim), context);
        var k = RotaryEmbedding.Apply(SplitHeads(projected[1], kvHeads, headDim), context);
        var v = SplitHeads(projected[2], kvHeads, headDim);
        return o_proj.forward(Attend(q, k, v, context, cache, layer, training ? dropout : 0));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) qkv?.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>SwiGLU: down_proj(act(gate_proj(x)) * up_proj(x)).</summary>
sealed class LlamaMlp : nn.Module<Tensor, Tensor>, IFusesProjections
{
    readonly LinearLayer gate_proj, up_proj, down_proj;
    FusedProjection? gateUp;
    readonly Func<Tensor, Tensor> act;
    readonly bool silu;

    public LlamaMlp(ModelConfig config, ScalarType dtype) : base(nameof(LlamaMlp))
    {
        gate_proj = new LinearLayer(config.HiddenSize, config.IntermediateSize, config.MlpBias, dtype);
        up_proj = new LinearLayer(config.HiddenSize, config.IntermediateSize, config.MlpBias, dtype);
        down_proj = new LinearLayer(config.IntermediateSize, config.HiddenSize, config.MlpBias, dtype);
        act = Activations.Get(config.HiddenAct, config);
        silu = Activations.IsSilu(config.HiddenAct);
        RegisterComponents();
    }

    /// <summary>The products a .NET decode step multiplies by, or null when one is not packed or the gate is not SiLU.</summary>
    internal DecodeMlp? DecodeStep() =>
        silu && gateUp?.DecodeProduct is var (w, b) && down_proj.DecodeProduct is var (d, db) ? new DecodeMlp(w, b, d, db) : null;

    public void FuseProjections(WeightFormat format) => (gateUp ??= FusedProjection.Create(gate_proj, up_proj))?.Pack(format);

    public IEnumerable<FusedProjection> FusedProducts() => gateUp is null ? [] : [gateUp];

    public override Tensor forward(Tensor x)
    {
        var (gate, up) = gateUp?.Forward(x) is [var g, var u] ? (g, u) : (gate_proj.forward(x), up_proj.forward(x));
        return down_proj.forward(act(gate) * up);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) gateUp?.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>x + self_attn(input_layernorm(x)), then + mlp(post_attention_layernorm(x)).</summary>
sealed class LlamaDecoderLayer : nn.Module<Tensor, AttentionContext, KvCache?, Tensor>
{
    readonly RmsNorm input_layernorm;
    readonly LlamaAttention self_attn;
    readonly RmsNorm post_attention_layernorm;
    readonly LlamaMlp mlp;

    public LlamaDecoderLayer(ModelConfig config, int layer, ScalarType dtype) : base(nameof(LlamaDecoderLayer))
    {
        input_layernorm = new RmsNorm(config.HiddenSize, config.NormEps, dtype);
        self_attn = new LlamaAttention(config, layer, dtype);
        post_attention_layernorm = new RmsNorm(config.HiddenSize, config.NormEps, dtype);
        mlp = new LlamaMlp(config, dtype);
        RegisterComponents();
    }

    /// <summary>This layer for a .NET decode step, or null when its attention or MLP cannot run there.</summary>
    internal DecodeLayer? DecodeStep() =>
        self_attn.DecodeStep() is { } attention && mlp.DecodeStep() is { } gated ? new DecodeLayer(input_layernorm, attention, post_attention_layernorm, gated) : null;

    public override Tensor forward(Tensor x, AttentionContext context, KvCache? cache)
    {
        if (GatedDecoderStep.Accepts(x, context, cache, out var slots, out var rows) && DecodeStep() is { } step)
            return GatedDecoderStep.Run(x, context, slots, rows, step);
        using var scope = NewDisposeScope();
        x = x + self_attn.forward(input_layernorm.forward(x), context, cache);
        return (x + mlp.forward(post_attention_layernorm.forward(x))).MoveToOuterDisposeScope();
    }
}

/// <summary>embed_tokens, the decoder layers, the final norm; this pass's rotary tables are shared by every layer.</summary>
sealed class LlamaModel : nn.Module<Tensor, AttentionContext, KvCache?, Tensor>
{
    internal readonly EmbeddingLayer embed_tokens;
    readonly ModuleList<LlamaDecoderLayer> layers;
    readonly RmsNorm norm;
    readonly RotaryEmbedding rotary_emb;

    public LlamaModel(ModelConfig config, ScalarType dtype) : base(nameof(LlamaModel))
    {
        embed_tokens = new EmbeddingLayer(config.VocabSize, config.HiddenSize, dtype);
        layers = nn.ModuleList(Enumerable.Range(0, config.NumLayers).Select(i => new LlamaDecoderLayer(config, i, dtype)).ToArray());
        norm = new RmsNorm(config.HiddenSize, config.NormEps, dtype);
        rotary_emb = new RotaryEmbedding(config.RotaryDim, config.RopeTheta, config.RopeScaling, interleaved: false);
        RegisterComponents();
    }

    /// <summary>The body for a .NET decode pass with the given head, or null when a part cannot run there.</summary>
    internal DecodeModel? DecodeModel((PackedWeight, Tensor?)? head) =>
        Kernels.DecodeModel.Of(embed_tokens, layers.Select(layer => layer.DecodeStep()), norm, rotary_emb, head);

    public override Tensor forward(Tensor input_ids, AttentionContext context, KvCache? cache)
    {
        using var scope = NewDisposeScope();
        context = rotary_emb.WithTables(context, embed_tokens.Weight.dtype);
        var x = embed_tokens.forward(input_ids);
        foreach (var layer in layers)
            x = layer.forward(x, context, cache);
        return norm.forward(x).MoveToOuterDisposeScope();
    }
}

/// <summary>LlamaForCausalLM: the body under "model", lm_head tied to embed_tokens when tie_word_embeddings says so.</summary>
public sealed partial class Llama : CausalLM
{
    readonly LlamaModel model;
    readonly LinearLayer? lm_head;

    public Llama(ModelConfig config, ScalarType dtype) : base(nameof(Llama), config, dtype, baseModelPrefix: "model")
    {
        model = new LlamaModel(config, dtype);
        lm_head = UntiedHead(config, dtype);
        RegisterComponents();
    }

    protected override Tensor Hidden(Tensor input_ids, AttentionContext context, KvCache? cache) =>
        model.forward(input_ids, context, cache);

    protected override Tensor Logits(Tensor hidden) => Head(hidden, lm_head, model.embed_tokens);

    protected override EmbeddingLayer? TiedHeadTable => lm_head is null ? model.embed_tokens : null;

    internal override DecodeModel? DecodeModel() => model.DecodeModel(DecodeHead(lm_head));

    protected override Regex? LegacyBuffers => RotaryBuffers();

    [GeneratedRegex(@"\.rotary_emb\.inv_freq$")]
    internal static partial Regex RotaryBuffers();
}
