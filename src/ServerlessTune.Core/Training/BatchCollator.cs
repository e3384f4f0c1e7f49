using static TorchSharp.torch;

namespace ServerlessTune.Core.Training;

/// <summary>One training micro-batch, right-padded to its longest row (dynamic padding).</summary>
public sealed class TrainingBatch(Tensor inputIds, Tensor attentionMask, Tensor labels, int targetTokens, int realTokens) : IDisposable
{
    /// <summary>[B,T] int64: each row is one conversation minus its last token.</summary>
    public Tensor InputIds { get; } = inputIds;
    /// <summary>[B,T] int64: 1 for real tokens, 0 for padding.</summary>
    public Tensor AttentionMask { get; } = attentionMask;
    /// <summary>[B,T] int64: the next token where it is trained, else <see cref="BatchCollator.IgnoreIndex"/>.</summary>
    public Tensor Labels { get; } = labels;
    public int TargetTokens { get; } = targetTokens;
    /// <summary>Non-padding input tokens, for throughput figures.</summary>
    public int RealTokens { get; } = realTokens;

    public void Dispose()
    {
        InputIds.Dispose();
        AttentionMask.Dispose();
        Labels.Dispose();
    }
}

/// <summary>
/// Builds next-token batches: one conversation per row, so attention (causal, with right padding masked)
/// never crosses record boundaries. Labels are shifted here, once, so the loss is a plain
/// cross-entropy over [B*T] with ignored positions.
/// </summary>
public static class BatchCollator
{
    public const long IgnoreIndex = -100;

    public static TrainingBatch Collate(IReadOnlyList<TrainingExample> examples, int padTokenId)
    {
        if (examples.Count == 0) throw new ArgumentException("empty batch", nameof(examples));
        int width = examples.Max(e => e.Ids.Length) - 1;
        int rows = examples.Count;
        var ids = new long[rows * width];
        var mask = new long[rows * width];
        var labels = new long[rows * width];
        Array.Fill(ids, padTokenId);
        Array.Fill(labels, IgnoreIndex);
        int targets = 0, real = 0;
        for (int r = 0; r < rows; r++)
        {
            var e = examples[r];
            int offset = r * width;
            for (int t = 0; t < e.Ids.Length - 1; t++)
            {
                ids[offset + t] = e.Ids[t];
                mask[offset + t] = 1;
                real++;
                if (!e.LossMask[t + 1]) continue;
                labels[offset + t] = e.Ids[t + 1];
                targets++;
            }
        }
        return new TrainingBatch(
            tensor(ids, [rows, width]), tensor(mask, [rows, width]), tensor(labels, [rows, width]), targets, real);
    }
}
