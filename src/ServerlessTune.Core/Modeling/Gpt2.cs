using System.Text.RegularExpressions;
using ServerlessTune.Core.Modeling.Layers;
using TorchSharp;
using static TorchSharp.torch;
using LayerNorm = ServerlessTune.Core.Modeling.Layers.LayerNorm;

namespace ServerlessTune.Core.Modeling;

/// <summary>GPT2LMHeadModel: learned positions, pre-LayerNorm blocks, Conv1D projections ([in, out]), lm_head tied to wte.</summary>
public sealed partial class Gpt2(ModelConfig config, ScalarType dtype)
    : CausalLM(nameof(Gpt2), config, dtype, "transformer", Body(config, dtype))
{
    static DecoderStack Body(ModelConfig config, ScalarType dtype) => new(
        ("wte", new EmbeddingLayer(config.VocabSize, config.HiddenSize, dtype)),
        ("wpe", new EmbeddingLayer(config.MaxPositions, config.HiddenSize, dtype)),
        ("h", Enumerable.Range(0, config.NumLayers).Select(i => new PreNormBlock(
            ("ln_1", new LayerNorm(config.HiddenSize, config.NormEps, dtype)),
            ("attn", new Gpt2Attention(config, i, dtype)),
            ("ln_2", new LayerNorm(config.HiddenSize, config.NormEps, dtype)),
            ("mlp", new Mlp(config, "c_fc", "c_proj", conv1d: true, dtype)),
            config.ResidualDropout))),
        ("ln_f", new LayerNorm(config.HiddenSize, config.NormEps, dtype)),
        rotary: null,
        config.EmbeddingDropout);

    protected override Regex? LegacyBuffers => AttentionBuffers();

    // GPT-2 scales the residual output projections by 1/sqrt(2 * n_layer) at init.
    protected override double InitStd(string moduleName) =>
        moduleName.EndsWith(".c_proj", StringComparison.Ordinal)
            ? Config.InitializerRange / Math.Sqrt(2.0 * Config.NumLayers)
            : Config.InitializerRange;

    [GeneratedRegex(@"(^|\.)attn\.(masked_)?bias$")]
    internal static partial Regex AttentionBuffers();
}

/// <summary>One c_attn producing q, k, v side by side.</summary>
sealed class Gpt2Attention : nn.Module<Tensor, AttentionContext, KvCache?, Tensor>
{
    readonly LinearLayer c_attn;
    readonly LinearLayer c_proj;
    readonly int layer, heads, headDim;
    readonly double dropout;

    public Gpt2Attention(ModelConfig config, int layer, ScalarType dtype) : base(nameof(Gpt2Attention))
    {
        (this.layer, heads, headDim, dropout) = (layer, config.NumHeads, config.HeadDim, config.AttentionDropout);
        c_attn = new LinearLayer(config.HiddenSize, 3L * config.HiddenSize, true, dtype, conv1d: true);
        c_proj = new LinearLayer(config.HiddenSize, config.HiddenSize, true, dtype, conv1d: true);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, AttentionContext context, KvCache? cache)
    {
        using var scope = NewDisposeScope();
        var qkv = c_attn.forward(x).chunk(3, -1);
        var q = ScaledDotProductAttention.SplitHeads(qkv[0], heads, headDim);
        var k = ScaledDotProductAttention.SplitHeads(qkv[1], heads, headDim);
        var v = ScaledDotProductAttention.SplitHeads(qkv[2], heads, headDim);
        return c_proj.forward(ScaledDotProductAttention.Attend(q, k, v, context, cache, layer, training ? dropout : 0)).MoveToOuterDisposeScope();
    }
}
