using TorchSharp;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling;

/// <summary>
/// Keys and values of past positions, one [B, KV heads, S, head dim] pair per layer (keys after rotary,
/// as Transformers caches them). The model's forward extends it in place; dispose it when done.
/// </summary>
public sealed class KvCache : IDisposable
{
    readonly List<(Tensor Keys, Tensor Values)> layers = [];

    /// <summary>Number of positions held (what the next attention_mask must cover before the new tokens).</summary>
    public long Length => layers.Count == 0 ? 0 : layers[0].Keys.shape[2];

    internal (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values)
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

    public void Dispose()
    {
        foreach (var (keys, values) in layers)
        {
            keys.Dispose();
            values.Dispose();
        }
        layers.Clear();
    }
}
