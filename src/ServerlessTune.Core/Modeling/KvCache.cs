using TorchSharp;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling;

/// <summary>
/// Keys and values of past positions (keys after rotary, as Transformers caches them), which the model's
/// forward extends in place. A forward pass first asks the cache for its attention context (positions and
/// mask over cached + new positions), then every layer appends its new keys and values. Dispose when done.
/// </summary>
public abstract class KvCache : IDisposable
{
    /// <summary>Positions, mask and causal flag of a pass of <paramref name="length"/> new tokens per row.</summary>
    internal abstract Layers.AttentionContext Begin(long batch, long length, Tensor? attentionMask, int? slidingWindow);

    /// <summary>Stores a layer's new keys and values [B, KV heads, T, head dim]; returns what that layer attends over.</summary>
    internal abstract (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values);

    public abstract void Dispose();
}

/// <summary>
/// One [B, KV heads, S, head dim] pair per layer that grows by concatenation: every row holds the same number
/// of positions, and left padding is expressed by the attention mask (as in Transformers' generate).
/// </summary>
public sealed class GrowingKvCache : KvCache
{
    readonly List<(Tensor Keys, Tensor Values)> layers = [];

    /// <summary>Number of positions held (what the next attention_mask must cover before the new tokens).</summary>
    public long Length => layers.Count == 0 ? 0 : layers[0].Keys.shape[2];

    internal override Layers.AttentionContext Begin(long batch, long length, Tensor? attentionMask, int? slidingWindow) =>
        Layers.AttentionContext.Create(batch, length, attentionMask, Length, slidingWindow);

    internal override (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values)
    {
        if (layer == layers.Count)
        {
            layers.Add((keys.clone().DetachFromDisposeScope(), values.clone().DetachFromDisposeScope()));
            return layers[layer];
        }
        if (layer > layers.Count) throw new InvalidOperationException($"layer {layer} appended before layer {layers.Count}");
        var (oldKeys, oldValues) = layers[layer];
        if (oldKeys.shape[0] != keys.shape[0])
            throw new ArgumentException($"cache holds batch size {oldKeys.shape[0]}, input has {keys.shape[0]}");
        layers[layer] = (cat([oldKeys, keys], 2).DetachFromDisposeScope(), cat([oldValues, values], 2).DetachFromDisposeScope());
        oldKeys.Dispose();
        oldValues.Dispose();
        return layers[layer];
    }

    public override void Dispose()
    {
        foreach (var (keys, values) in layers)
        {
            keys.Dispose();
            values.Dispose();
        }
        layers.Clear();
    }
}
