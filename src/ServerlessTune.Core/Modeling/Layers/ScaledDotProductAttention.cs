using TorchSharp;
using ServerlessTune.Core.Modeling.Kernels;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling.Layers;

/// <summary>The attention core all four architectures share: cache append, grouped-query repeat, fused SDPA kernel.</summary>
public static class ScaledDotProductAttention
{
    /// <summary>[B, T, heads * headDim] to [B, heads, T, headDim].</summary>
    public static Tensor SplitHeads(Tensor x, long heads, long headDim) =>
        x.view(x.size(0), x.size(1), heads, headDim).transpose(1, 2);

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
        if (dropout == 0 && !context.IsCausal && DecodeOps.AcceptsAttention(q, k, v, context.Mask))
            return DecodeOps.Attention(q, k, v, context.Mask).MoveToOuterDisposeScope();
        var groups = q.size(1) / k.size(1);
        Tensor output;
        if (groups > 1 && !context.IsCausal && dropout == 0)
        {
            output = GroupedAttention(q, k, v, context.Mask, groups);
        }
        else
        {
            if (groups > 1)
            {
                k = k.repeat_interleave(groups, dim: 1);
                v = v.repeat_interleave(groups, dim: 1);
            }
            output = nn.functional.scaled_dot_product_attention(q, k, v, context.Mask, dropout, context.IsCausal);
        }
        return output.transpose(1, 2).reshape(q.size(0), q.size(2), -1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Grouped-query attention without copying the cache: the G query heads that share a KV head become G * T
    /// query rows of that head ([B, KV, G * T, D]), and the mask [B or 1, 1, T, L] repeats over them. Rows attend
    /// independently, so this computes what repeating k and v G times does, without the copy of every cached
    /// position (at decode, the largest tensor a layer touches after its weights). An implicit causal mask
    /// is relative to row order, so causal passes take the repeat path, and so does training with attention
    /// dropout, whose draws follow the layout of the probabilities.
    /// </summary>
    static Tensor GroupedAttention(Tensor q, Tensor k, Tensor v, Tensor? mask, long groups)
    {
        var (batch, heads, length, dim) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3]);
        var kvHeads = k.shape[1];
        var rows = q.reshape(batch, kvHeads, groups * length, dim);
        var rowMask = mask?.unsqueeze(2).expand(mask.shape[0], 1, groups, length, mask.shape[^1]).reshape(mask.shape[0], 1, groups * length, -1);
        var output = nn.functional.scaled_dot_product_attention(rows, k, v, rowMask);
        return output.view(batch, heads, length, dim);
    }
}
