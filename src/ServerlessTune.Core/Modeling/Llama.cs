using System.Text.RegularExpressions;
using ServerlessTune.Core.Modeling.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling;

/// <summary>
/// LlamaForCausalLM, which also serves mistral, qwen2 (q/k/v biases), SmolLM and TinyLlama configs:
/// RMSNorm, rotary with rope_theta and rope_scaling, SwiGLU MLP, grouped-query attention, tied or untied head.
/// Phi3ForCausalLM is the same stack with fused projections.
/// </summary>
public partial class Llama : CausalLM
{
    public Llama(ModelConfig config, ScalarType dtype)
        : this(nameof(Llama), config, dtype,
            layer => new SplitQkvAttention(config, layer, "o_proj", dtype),
            () => new LlamaMlp(config, dtype))
    {
    }

    protected Llama(string name, ModelConfig config, ScalarType dtype,
        Func<int, RotarySelfAttention> attention, Func<nn.Module<Tensor, Tensor>> mlp)
        : base(name, config, dtype, "model", Body(config, dtype, attention, mlp))
    {
    }

    static DecoderStack Body(ModelConfig config, ScalarType dtype, Func<int, RotarySelfAttention> attention, Func<nn.Module<Tensor, Tensor>> mlp) => new(
        ("embed_tokens", new EmbeddingLayer(config.VocabSize, config.HiddenSize, dtype)),
        positions: null,
        ("layers", Enumerable.Range(0, config.NumLayers).Select(i => new PreNormBlock(
            ("input_layernorm", new RmsNorm(config.HiddenSize, config.NormEps, dtype)),
            ("self_attn", attention(i)),
            ("post_attention_layernorm", new RmsNorm(config.HiddenSize, config.NormEps, dtype)),
            ("mlp", mlp()),
            config.ResidualDropout))),
        ("norm", new RmsNorm(config.HiddenSize, config.NormEps, dtype)),
        new RotaryEmbedding(config.RotaryDim, config.RopeTheta, config.RopeScaling, interleaved: false),
        config.EmbeddingDropout);

    protected override Regex? LegacyBuffers => RotaryBuffer();

    [GeneratedRegex(@"\.rotary_emb\.inv_freq$")]
    private static partial Regex RotaryBuffer();
}

/// <summary>SwiGLU: down_proj(act(gate_proj(x)) * up_proj(x)).</summary>
sealed class LlamaMlp : nn.Module<Tensor, Tensor>
{
    readonly LinearLayer gate_proj, up_proj, down_proj;
    readonly Func<Tensor, Tensor> act;

    public LlamaMlp(ModelConfig config, ScalarType dtype) : base(nameof(LlamaMlp))
    {
        gate_proj = new LinearLayer(config.HiddenSize, config.IntermediateSize, config.MlpBias, dtype);
        up_proj = new LinearLayer(config.HiddenSize, config.IntermediateSize, config.MlpBias, dtype);
        down_proj = new LinearLayer(config.IntermediateSize, config.HiddenSize, config.MlpBias, dtype);
        act = Activations.Get(config.HiddenAct, config);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return down_proj.forward(act(gate_proj.forward(x)) * up_proj.forward(x)).MoveToOuterDisposeScope();
    }
}
