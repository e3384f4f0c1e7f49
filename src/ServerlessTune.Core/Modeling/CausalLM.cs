using System.Text.RegularExpressions;
using ServerlessTune.Core.Modeling.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling;

/// <summary>
/// A decoder-only language model whose state-dict names are the Transformers checkpoint names.
/// forward(input_ids [B, T], attention_mask [B, P + T] or null, cache with P positions or null) -> logits [B, T, V] float32.
/// </summary>
public abstract class CausalLM : nn.Module<Tensor, Tensor?, KvCache?, Tensor>
{
    readonly DecoderStack body;
    readonly LinearLayer? lm_head;

    /// <param name="baseModelPrefix">Transformers' base_model_prefix, the body's name: "transformer" or "model".</param>
    /// <param name="lmHeadBias">GPT-J's head has a bias; an untied head of the others does not.</param>
    protected CausalLM(string name, ModelConfig config, ScalarType dtype, string baseModelPrefix, DecoderStack body, bool lmHeadBias = false)
        : base(name)
    {
        Config = config;
        DType = dtype;
        BaseModelPrefix = baseModelPrefix + ".";
        this.body = body;
        register_module(baseModelPrefix, body);
        if (!config.TieWordEmbeddings)
        {
            lm_head = new LinearLayer(config.HiddenSize, config.VocabSize, lmHeadBias, dtype);
            register_module(nameof(lm_head), lm_head);
        }
    }

    public ModelConfig Config { get; }
    public ScalarType DType { get; }

    /// <summary>Checkpoints saved from the bare model (GPT-2 on the hub) lack this prefix.</summary>
    internal string BaseModelPrefix { get; }

    /// <summary>Buffers old checkpoints of this architecture still carry, which Transformers ignores on load.</summary>
    protected abstract Regex? LegacyBuffers { get; }

    internal bool IsIgnoredCheckpointKey(string key) =>
        (Config.TieWordEmbeddings && key == "lm_head.weight") || LegacyBuffers?.IsMatch(key) == true;

    // Children are registered under checkpoint names in the constructor.
    protected override void RegisterComponents() { }

    public GrowingKvCache NewCache() => new();

    public override Tensor forward(Tensor input_ids, Tensor? attention_mask = null, KvCache? cache = null)
    {
        using var scope = NewDisposeScope();
        return Head(Hidden(input_ids, attention_mask, cache)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Logits [B, V] float32 of each row's last position only: generation needs nothing else, and the output
    /// projection over the whole vocabulary is the largest matmul of a decode step.
    /// </summary>
    public Tensor NextTokenLogits(Tensor input_ids, Tensor? attention_mask = null, KvCache? cache = null)
    {
        using var scope = NewDisposeScope();
        var hidden = Hidden(input_ids, attention_mask, cache);
        return Head(hidden[.., -1, ..]).MoveToOuterDisposeScope();
    }

    Tensor Hidden(Tensor input_ids, Tensor? attention_mask, KvCache? cache)
    {
        if (input_ids.dim() != 2 || input_ids.dtype != int64)
            throw new ArgumentException($"input_ids must be int64 [batch, tokens], got {input_ids.dtype} [{string.Join(", ", input_ids.shape)}]");
        var (batch, length) = (input_ids.shape[0], input_ids.shape[1]);
        var context = cache?.Begin(batch, length, attention_mask, Config.SlidingWindow)
                      ?? AttentionContext.Create(batch, length, attention_mask, 0, Config.SlidingWindow);
        return body.forward(input_ids, context, cache);
    }

    Tensor Head(Tensor hidden) => (lm_head?.forward(hidden) ?? nn.functional.linear(hidden, body.TokenEmbedding.Weight)).to(float32);

    /// <summary>
    /// Transformers' _init_weights with a seeded generator: normal(0, initializer_range) for projections and
    /// embeddings, zero biases, unit norms. Same seed, same bits.
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

    public long ParameterCount() => parameters().Sum(p => p.numel());
}
