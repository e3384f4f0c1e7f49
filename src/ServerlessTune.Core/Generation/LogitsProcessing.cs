using static TorchSharp.torch;

namespace ServerlessTune.Core.Generation;

/// <summary>
/// The logits transforms of Transformers' generate, applied in its order (repetition penalty, then
/// temperature, top-k, top-p) to next-token logits [B, V]. Each returns a new tensor.
/// </summary>
public static class LogitsProcessing
{
    /// <summary>
    /// RepetitionPenaltyLogitsProcessor: a token already in the sequence has its logit divided by the
    /// penalty when positive and multiplied when negative, so a penalty above 1 always makes it less likely.
    /// <paramref name="seen"/> [B, V] bool marks each row's tokens; unlike Transformers, left padding is
    /// not marked, so a prompt scores the same in a padded batch as alone.
    /// </summary>
    public static Tensor RepetitionPenalty(Tensor logits, Tensor seen, double penalty)
    {
        using var penalized = where(logits < 0, logits * penalty, logits / penalty);
        return where(seen, penalized, logits);
    }

    /// <summary>
    /// OpenAI's frequency and presence penalties (as vLLM applies them): each token's logit drops by
    /// frequency * its count in the output so far, and by presence once if it occurs at all.
    /// <paramref name="counts"/> [B, V] float32 holds each row's output counts.
    /// </summary>
    public static Tensor FrequencyPresencePenalty(Tensor logits, Tensor counts, double frequency, double presence)
    {
        using var scope = NewDisposeScope();
        return (logits - counts * frequency - (counts > 0).to(logits.dtype) * presence).MoveToOuterDisposeScope();
    }

    public static Tensor Temperature(Tensor logits, double temperature) => logits / temperature;

    /// <summary>TopKLogitsWarper: keeps every token whose logit ties or beats the k-th largest.</summary>
    public static Tensor TopK(Tensor logits, int k)
    {
        var vocab = (int)logits.shape[^1];
        if (k <= 0 || k >= vocab) return logits.clone();
        var (values, indices) = logits.topk(k, dim: -1);
        using (indices)
        using (values)
        using (var kth = values[.., (k - 1)..k])
        using (var drop = logits < kth)
            return logits.masked_fill(drop, float.NegativeInfinity);
    }

    /// <summary>
    /// TopPLogitsWarper: keeps the smallest set of most likely tokens whose probability reaches p
    /// (tokens whose ascending cumulative probability stays at or below 1 - p are dropped), always
    /// keeping the most likely token.
    /// </summary>
    public static Tensor TopP(Tensor logits, double p)
    {
        if (p >= 1) return logits.clone();
        using var scope = NewDisposeScope();
        var (sorted, order) = logits.sort(dim: -1, descending: false);
        var cumulative = sorted.softmax(-1).cumsum(-1);
        var dropSorted = cumulative <= 1 - p;
        dropSorted[.., -1] = tensor(false);
        var drop = dropSorted.scatter(1, order, dropSorted);
        return logits.masked_fill(drop, float.NegativeInfinity).MoveToOuterDisposeScope();
    }
}
