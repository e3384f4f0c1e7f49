using TorchSharp;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling.Layers;

/// <summary>
/// What every layer of one forward pass shares: position ids, the attention mask (or the promise that a
/// plain causal mask is enough), the cache offset and, for rotary models, this pass's cos/sin tables.
/// </summary>
public sealed record AttentionContext(Tensor PositionIds, Tensor? Mask, bool IsCausal, long PastLength)
{
    public RotaryEmbedding? Rotary { get; init; }
    public Tensor? Cos { get; init; }
    public Tensor? Sin { get; init; }

    /// <summary>
    /// Positions come from the attention mask (cumsum - 1, pads set to 1) as in Transformers' generate,
    /// so a left-padded prompt sees the same positions as the prompt alone.
    /// </summary>
    public static AttentionContext Create(long batch, long length, Tensor? attentionMask, long past, int? slidingWindow)
    {
        var total = past + length;
        if (attentionMask is not null && (attentionMask.dim() != 2 || attentionMask.shape[0] != batch || attentionMask.shape[1] != total))
            throw new ArgumentException(
                $"attention_mask has shape [{string.Join(", ", attentionMask.shape)}], expected [{batch}, {total}] (cached + new positions)");
        var keep = attentionMask?.to(ScalarType.Bool);
        var hasPadding = keep is not null && !keep.all().item<bool>();
        var positions = hasPadding
            ? (attentionMask!.to(int64).cumsum(-1) - 1).masked_fill(keep!.logical_not(), 1).narrow(1, past, length)
            : arange(past, total, dtype: int64).unsqueeze(0).expand(batch, length);
        var windowBinds = slidingWindow is int w && total > w;
        if (!hasPadding && !windowBinds)
        {
            if (length == 1) return new AttentionContext(positions, null, false, past);
            if (past == 0) return new AttentionContext(positions, null, true, past);
        }
        var queryIndex = arange(past, total, dtype: int64).unsqueeze(1);
        var keyIndex = arange(0, total, dtype: int64).unsqueeze(0);
        var allowed = keyIndex <= queryIndex;
        if (windowBinds)
            allowed = allowed.logical_and(queryIndex - keyIndex < slidingWindow!.Value);
        allowed = allowed.unsqueeze(0).unsqueeze(0);
        if (hasPadding)
            allowed = allowed.logical_and(keep!.unsqueeze(1).unsqueeze(1));
        // A pad query may see no key at all; softmax over nothing is NaN, so let it see everything.
        // Its output is never used, and real queries are unaffected.
        allowed = allowed.logical_or(allowed.any(-1, keepdim: true).logical_not());
        return new AttentionContext(positions, allowed, false, past);
    }
}
