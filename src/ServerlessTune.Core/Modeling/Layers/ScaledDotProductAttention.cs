using TorchSharp;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling.Layers;

/// <summary>The attention core all four architectures share: cache append, grouped-query repeat, fused SDPA kernel.</summary>
public static class ScaledDotProductAttention
{
    /// <summary>[B, T, heads * headDim] to [B, heads, T, headDim].</summary>
    public static Tensor SplitHeads(Tensor x, long heads, long headDim) =>
        x.view(x.shape[0], x.shape[1], heads, headDim).transpose(1, 2);

    /// <summary>
    /// q [B, H, T, D], k and v [B, KV, T, D] for the new positions. Returns [B, T, H * D].
    /// The 1/sqrt(D) scale is SDPA's default, which is what every supported architecture uses.
    /// <paramref name="dropout"/> applies to the attention probabilities (pass 0 outside training).
    /// </summary>
    public static Tensor Attend(Tensor q, Tensor k, Tensor v, AttentionContext context, KvCache? cache, int layer, double dropout)
    {
        using var scope = NewDisposeScope();
        if (cache is not null)
            (k, v) = cache.Append(layer, k, v);
        var groups = q.shape[1] / k.shape[1];
        if (groups > 1)
        {
            k = k.repeat_interleave(groups, dim: 1);
            v = v.repeat_interleave(groups, dim: 1);
        }
        var output = nn.functional.scaled_dot_product_attention(q, k, v, context.Mask, dropout, context.IsCausal);
        return output.transpose(1, 2).reshape(q.shape[0], q.shape[2], -1).MoveToOuterDisposeScope();
    }
}
