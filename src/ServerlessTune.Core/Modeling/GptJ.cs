using System.Text.RegularExpressions;
using ServerlessTune.Core.Modeling.Layers;
using TorchSharp;
using static TorchSharp.torch;
using LayerNorm = ServerlessTune.Core.Modeling.Layers.LayerNorm;

namespace ServerlessTune.Core.Modeling;

/// <summary>
/// GPTJForCausalLM: attention and MLP run in parallel on the same ln_1 output; rotary on the first
/// rotary_dim dims of each head with interleaved pairs; no biases in attention; untied lm_head with bias.
/// </summary>
public sealed class GptJ(ModelConfig config, ScalarType dtype)
    : CausalLM(nameof(GptJ), config, dtype, "transformer", Body(config, dtype), lmHeadBias: true)
{
    static DecoderStack Body(ModelConfig config, ScalarType dtype) => new(
        ("wte", new EmbeddingLayer(config.VocabSize, config.HiddenSize, dtype)),
        positions: null,
        ("h", Enumerable.Range(0, config.NumLayers).Select(i => new GptJBlock(config, i, dtype))),
        ("ln_f", new LayerNorm(config.HiddenSize, config.NormEps, dtype)),
        new RotaryEmbedding(config.RotaryDim, config.RopeTheta, null, interleaved: true),
        config.EmbeddingDropout);

    protected override Regex? LegacyBuffers => Gpt2.AttentionBuffers();
}

/// <summary>x + attn(ln_1(x)) + mlp(ln_1(x)).</summary>
sealed class GptJBlock : nn.Module<Tensor, AttentionContext, KvCache?, Tensor>
{
    readonly LayerNorm ln_1;
    readonly SplitQkvAttention attn;
    readonly Mlp mlp;
    readonly double dropout;

    public GptJBlock(ModelConfig config, int layer, ScalarType dtype) : base(nameof(GptJBlock))
    {
        ln_1 = new LayerNorm(config.HiddenSize, config.NormEps, dtype);
        attn = new SplitQkvAttention(config, layer, "out_proj", dtype);
        mlp = new Mlp(config, "fc_in", "fc_out", conv1d: false, dtype);
        dropout = config.ResidualDropout;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, AttentionContext context, KvCache? cache)
    {
        using var scope = NewDisposeScope();
        var normed = ln_1.forward(x);
        var attended = nn.functional.dropout(attn.forward(normed, context, cache), dropout, training);
        return (attended + nn.functional.dropout(mlp.forward(normed), dropout, training) + x).MoveToOuterDisposeScope();
    }
}
