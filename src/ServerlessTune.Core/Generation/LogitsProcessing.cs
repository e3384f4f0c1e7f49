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
    /// TopPLogitsWarper: keeps the smallest set of most likely tokens whose probability reaches p (a token is dropped
    /// when the tokens likelier than it already hold p: Transformers' ascending cumulative probability at or below
    /// 1 - p), always keeping the most likely token. Sorting the whole vocabulary takes 5-10 ms a step on a 50k
    /// vocabulary, so the likeliest 256 are found first (top-k: 0.3 ms there) and the set decided among them when they
    /// hold p in every row, else among the likeliest 4,096; only a flatter distribution still needs the sort.
    /// </summary>
    public static Tensor TopP(Tensor logits, double p)
    {
        if (p >= 1) return logits.clone();
        var vocab = logits.size(-1);
        if (vocab <= TopPCandidates[0]) return TopPBySort(logits, p);
        using var normalizer = logits.logsumexp(-1, keepdim: true);
        foreach (var candidates in TopPCandidates)
            if (candidates < vocab && TopPAmong(logits, normalizer, p, candidates) is { } kept)
                return kept;
        return TopPBySort(logits, p);
    }

    /// <summary>How many likeliest tokens <see cref="TopP"/> looks among, in turn, before it sorts the whole vocabulary.</summary>
    public static readonly IReadOnlyList<int> TopPCandidates = [256, 4096];

    /// <summary><see cref="TopP"/> decided among each row's likeliest <paramref name="candidates"/>, or null when in some
    /// row they hold less than p (the set may reach past them); <paramref name="normalizer"/> is each row's logsumexp.</summary>
    static Tensor? TopPAmong(Tensor logits, Tensor normalizer, double p, int candidates)
    {
        using var scope = NewDisposeScope();
        var (values, indices) = logits.topk(candidates, dim: -1);
        var probabilities = (values - normalizer).exp();
        var through = probabilities.cumsum(-1);
        if ((through[.., -1] < p).any().item<bool>()) return null;
        // The probability of the candidates likelier than each one; the likeliest has none before it and stays.
        var before = cat([zeros_like(through[.., ..1]), through[.., ..^1]], -1);
        var keep = zeros_like(logits, dtype: ScalarType.Bool).scatter_(1, indices, before < p);
        return logits.masked_fill(keep.logical_not(), float.NegativeInfinity).MoveToOuterDisposeScope();
    }

    /// <summary><see cref="TopP"/> over the whole sorted vocabulary, as Transformers computes it.</summary>
    public static Tensor TopPBySort(Tensor logits, double p)
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
