using System.Text.RegularExpressions;
using ServerlessTune.Core.Modeling.Kernels;
using ServerlessTune.Core.Modeling.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling;

/// <summary>
/// A decoder-only language model whose state-dict names are the Transformers checkpoint names.
/// forward(input_ids [B, T], attention_mask [B, P + T] or null, cache with P positions or null) -> logits [B, T, V] float32.
/// Each architecture's file (Gpt2.cs, GptJ.cs, Llama.cs, Phi3.cs) holds its attention, MLP, decoder layer,
/// model body and this head; what they share is here and in Layers/.
/// </summary>
public abstract class CausalLM : nn.Module<Tensor, Tensor?, KvCache?, Tensor>
{
    /// <param name="baseModelPrefix">Transformers' base_model_prefix, the body's field name: "transformer" or "model".</param>
    protected CausalLM(string name, ModelConfig config, ScalarType dtype, string baseModelPrefix) : base(name)
    {
        Config = config;
        DType = dtype;
        BaseModelPrefix = baseModelPrefix + ".";
    }

    public ModelConfig Config { get; }
    public ScalarType DType { get; }

    /// <summary>How the weights are held for decoding; fp32 until <see cref="ConvertWeights"/>.</summary>
    public WeightFormat WeightFormat { get; private set; } = WeightFormat.Fp32;

    bool preparedForDecoding;
    PackedWeight? tiedHead;

    /// <summary>Checkpoints saved from the bare model (GPT-2 on the hub) lack this prefix.</summary>
    internal string BaseModelPrefix { get; }

    /// <summary>Buffers old checkpoints of this architecture still carry, which Transformers ignores on load.</summary>
    protected abstract Regex? LegacyBuffers { get; }

    internal bool IsIgnoredCheckpointKey(string key) =>
        (Config.TieWordEmbeddings && key == "lm_head.weight") || LegacyBuffers?.IsMatch(key) == true;

    public GrowingKvCache NewCache() => new();

    public override Tensor forward(Tensor input_ids, Tensor? attention_mask = null, KvCache? cache = null)
    {
        using var scope = NewDisposeScope();
        return Logits(Pass(input_ids, attention_mask, cache)).to(float32).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Logits [B, V] float32 of each row's last position only: generation needs nothing else, and the output
    /// projection over the whole vocabulary is the largest matmul of a decode step.
    /// </summary>
    public Tensor NextTokenLogits(Tensor input_ids, Tensor? attention_mask = null, KvCache? cache = null)
    {
        if (attention_mask is null && DecodePass.Accepts(input_ids, cache, this, out var slots) && DecodeModel() is { } parts)
            return DecodePass.Logits(input_ids, slots, parts, Config.SlidingWindow);
        using var scope = NewDisposeScope();
        return Logits(Pass(input_ids, attention_mask, cache)[.., -1, ..]).to(float32).MoveToOuterDisposeScope();
    }

    /// <summary>The body's hidden states; the cache (when there is one) decides the pass's positions and mask.</summary>
    Tensor Pass(Tensor input_ids, Tensor? attention_mask, KvCache? cache)
    {
        if (input_ids.dim() != 2 || input_ids.dtype != int64)
            throw new ArgumentException($"input_ids must be int64 [batch, tokens], got {input_ids.dtype} [{string.Join(", ", input_ids.shape)}]");
        var (batch, length) = (input_ids.shape[0], input_ids.shape[1]);
        var context = cache?.Begin(batch, length, attention_mask, Config.SlidingWindow)
                      ?? AttentionContext.Create(batch, length, attention_mask, 0, Config.SlidingWindow);
        return Hidden(input_ids, context, cache);
    }

    /// <summary>The architecture's body: final hidden states [B, T, hidden] in the model's dtype.</summary>
    protected abstract Tensor Hidden(Tensor input_ids, AttentionContext context, KvCache? cache);

    /// <summary>The architecture's head: hidden states [..., hidden] to logits [..., V] in the model's dtype.</summary>
    protected abstract Tensor Logits(Tensor hidden);

    /// <summary>lm_head [vocab, hidden], or null when config.json ties it to the token embedding.</summary>
    protected static LinearLayer? UntiedHead(ModelConfig config, ScalarType dtype) =>
        config.TieWordEmbeddings ? null : new LinearLayer(config.HiddenSize, config.VocabSize, hasBias: false, dtype);

    /// <summary>Logits through lm_head, or through the token embedding's weight when the head is tied to it.</summary>
    protected Tensor Head(Tensor hidden, LinearLayer? lmHead, EmbeddingLayer tokens) =>
        lmHead?.forward(hidden) ?? (tiedHead is not null && tiedHead.Accepts(hidden)
            ? tiedHead.Forward(hidden)
            : nn.functional.linear(hidden, tokens.Weight));

    /// <summary>What a decode pass in .NET (<see cref="DecodePass"/>) runs of this model, or null when the architecture
    /// has no such pass or a part of it cannot run there now (an adapter, a product not packed).</summary>
    internal virtual DecodeModel? DecodeModel() => null;

    /// <summary>The head's packed product and bias for a decode pass: lm_head's, or the tied table's; null when not packed.</summary>
    private protected (PackedWeight Weight, Tensor? Bias)? DecodeHead(LinearLayer? lmHead) =>
        lmHead is not null ? lmHead.DecodeProduct : tiedHead is { } tied ? (tied, null) : null;

    /// <summary>The table a tied head multiplies by, or null when the head has its own weight.</summary>
    protected abstract EmbeddingLayer? TiedHeadTable { get; }

    /// <summary>
    /// Transformers' _init_weights with a seeded generator: normal(0, initializer_range) for projections and
    /// embeddings, zero biases, unit norms. Same seed, same bits: the generator draws module by module in
    /// registration order, so that order is part of each architecture's file.
    /// </summary>
    public void InitializeWeights(long seed)
    {
        using var generator = new Generator((ulong)seed, CPU);
        foreach (var (name, module) in named_modules())
            if (module is IInitializable layer)
                layer.Initialize(InitStd(name), generator);
    }

    /// <summary>Standard deviation for the module at this state-dict path.</summary>
    protected virtual double InitStd(string moduleName) => Config.InitializerRange;

    /// <summary>All projections, by state-dict path, for attaching LoRA adapters.</summary>
    public IEnumerable<(string Name, LinearLayer Layer)> Projections() =>
        named_modules().Where(m => m.module is LinearLayer).Select(m => (m.name, (LinearLayer)m.module));

    /// <summary>
    /// For decoding: projections of one input become one matmul (<see cref="FusedProjection"/>), and every product
    /// gets its weight packed for the .NET decode kernel (<see cref="PackedWeight"/>) in <see cref="WeightFormat"/>.
    /// Parameter names and state_dict stay as loaded; training and LoRA adapters keep working on the separate
    /// projections through torch. Done once; <see cref="TextGenerator"/> calls it.
    /// </summary>
    public void PrepareForDecoding()
    {
        if (preparedForDecoding) return;
        foreach (var module in modules().OfType<IFusesProjections>())
            module.FuseProjections(WeightFormat);
        foreach (var (_, layer) in Projections())
            if (!layer.InFusedProduct && !layer.HasLora)
                layer.Pack(WeightFormat);
        tiedHead?.Dispose();
        tiedHead = TiedHeadTable is { } table ? PackedWeight.Create(table.Weight, WeightFormat) : null;
        DecodesInKernel = modules().OfType<IFusesProjections>().SelectMany(m => m.FusedProducts()).All(f => f.Packed is not null)
            && Projections().All(p => p.Layer.InFusedProduct || p.Layer.Packed is not null)
            && (TiedHeadTable is null || tiedHead is not null);
        preparedForDecoding = true;
    }

    /// <summary>Whether every product of a decode step runs in the .NET kernel (not GPT-2's fp32 Conv1D weights, nor an attached adapter).</summary>
    public bool DecodesInKernel { get; private set; }

    /// <summary>
    /// Rounds the weights to <paramref name="format"/> for inference (after any adapter is merged: quantize from the
    /// trained fp32 weights, never train on the result) and packs them. Irreversible: the fp32 parameters now hold
    /// the rounded values, so a second conversion to another narrow format is refused.
    /// </summary>
    public void ConvertWeights(WeightFormat format)
    {
        if (format == WeightFormat) { PrepareForDecoding(); return; }
        if (WeightFormat != WeightFormat.Fp32)
            throw new InvalidOperationException($"weights are already {WeightFormat.Name()}; cannot convert to {format.Name()}");
        WeightFormat = format;
        preparedForDecoding = false;
        PrepareForDecoding();
    }

    /// <summary>Every product a decode step runs through the kernel (fused products once, a tied head included).</summary>
    public IEnumerable<PackedWeight> PackedWeights()
    {
        foreach (var module in modules().OfType<IFusesProjections>())
            foreach (var fused in module.FusedProducts())
                if (fused.Packed is { } p) yield return p;
        foreach (var (_, layer) in Projections())
            if (!layer.InFusedProduct && layer.Packed is { } p) yield return p;
        if (tiedHead is not null) yield return tiedHead;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) tiedHead?.Dispose();
        base.Dispose(disposing);
    }

    public long ParameterCount() => parameters().Sum(p => p.numel());
}
