using TorchSharp;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling.Layers;

/// <summary>
/// Self-attention with rotary positions (GPT-J, Llama family, Phi-3): subclasses project x to q, k, v;
/// this applies the pass's rotary tables, attends and projects back through the output layer.
/// </summary>
public abstract class RotarySelfAttention : nn.Module<Tensor, AttentionContext, KvCache?, Tensor>
{
    readonly LinearLayer output;
    readonly int layer;
    protected readonly ModelConfig config;

    protected RotarySelfAttention(string name, ModelConfig config, int layer, string outputName, ScalarType dtype) : base(name)
    {
        this.config = config;
        this.layer = layer;
        output = new LinearLayer((long)config.NumHeads * config.HeadDim, config.HiddenSize, config.OutputBias, dtype);
        register_module(outputName, output);
    }

    // Children are registered under checkpoint names above; the field names must not add a second copy.
    protected override void RegisterComponents() { }

    /// <summary>q [B, T, heads * headDim], k and v [B, T, kvHeads * headDim].</summary>
    protected abstract (Tensor Q, Tensor K, Tensor V) Project(Tensor x);

    public override Tensor forward(Tensor x, AttentionContext context, KvCache? cache)
    {
        using var scope = NewDisposeScope();
        var (q, k, v) = Project(x);
        var rotary = context.Rotary ?? throw new InvalidOperationException("rotary tables missing from the attention context");
        q = rotary.Apply(ScaledDotProductAttention.SplitHeads(q, config.NumHeads, config.HeadDim), context.Cos!, context.Sin!);
        k = rotary.Apply(ScaledDotProductAttention.SplitHeads(k, config.NumKvHeads, config.HeadDim), context.Cos!, context.Sin!);
        v = ScaledDotProductAttention.SplitHeads(v, config.NumKvHeads, config.HeadDim);
        return output.forward(ScaledDotProductAttention.Attend(q, k, v, context, cache, layer, training ? config.AttentionDropout : 0)).MoveToOuterDisposeScope();
    }
}

/// <summary>Separate q_proj, k_proj, v_proj (GPT-J with out_proj; Llama, Mistral, Qwen2 with o_proj).</summary>
public sealed class SplitQkvAttention : RotarySelfAttention
{
    readonly LinearLayer q_proj, k_proj, v_proj;

    public SplitQkvAttention(ModelConfig config, int layer, string outputName, ScalarType dtype)
        : base(nameof(SplitQkvAttention), config, layer, outputName, dtype)
    {
        long q = (long)config.NumHeads * config.HeadDim, kv = (long)config.NumKvHeads * config.HeadDim;
        q_proj = new LinearLayer(config.HiddenSize, q, config.QkvBias, dtype);
        k_proj = new LinearLayer(config.HiddenSize, kv, config.QkvBias, dtype);
        v_proj = new LinearLayer(config.HiddenSize, kv, config.QkvBias, dtype);
        register_module(nameof(q_proj), q_proj);
        register_module(nameof(k_proj), k_proj);
        register_module(nameof(v_proj), v_proj);
    }

    protected override (Tensor Q, Tensor K, Tensor V) Project(Tensor x) => (q_proj.forward(x), k_proj.forward(x), v_proj.forward(x));
}
