using static TorchSharp.torch;

namespace ServerlessTune.Core.Generation;

/// <summary>
/// Picks the next token of every row from its logits [B, V]: argmax when greedy, otherwise a draw from
/// the filtered distribution. Row r draws from its own generator seeded Seed + r, so what a row samples
/// never depends on the other rows of the batch (row r in a batch equals that prompt alone with seed
/// Seed + r), and the same seed repeats bit for bit.
/// </summary>
public sealed class TokenSampler : IDisposable
{
    readonly GenerationOptions options;
    readonly Generator[] generators;

    public TokenSampler(GenerationOptions options, int batchSize)
    {
        options.Validate();
        this.options = options;
        generators = options.IsGreedy
            ? []
            : Enumerable.Range(0, batchSize).Select(r => new Generator(unchecked((ulong)(options.Seed + r)))).ToArray();
    }

    /// <param name="logits">[B, V] float32 next-token logits.</param>
    /// <param name="seen">[B, V] bool: tokens already in each row; needed when the repetition penalty is not 1.</param>
    /// <param name="outputCounts">[B, V] float32: each row's output token counts; needed when
    /// <see cref="GenerationOptions.CountsOutput"/>.</param>
    public long[] Next(Tensor logits, Tensor? seen, Tensor? outputCounts = null)
    {
        using var scope = NewDisposeScope();
        var scores = options.RepetitionPenalty == 1.0
            ? logits
            : LogitsProcessing.RepetitionPenalty(logits,
                seen ?? throw new ArgumentNullException(nameof(seen), "the repetition penalty needs the seen tokens"), options.RepetitionPenalty);
        if (options.CountsOutput)
            scores = LogitsProcessing.FrequencyPresencePenalty(scores,
                outputCounts ?? throw new ArgumentNullException(nameof(outputCounts), "frequency/presence penalties need output counts"),
                options.FrequencyPenalty, options.PresencePenalty);
        if (options.IsGreedy)
            return scores.argmax(-1).data<long>().ToArray();

        scores = LogitsProcessing.Temperature(scores, options.Temperature);
        scores = LogitsProcessing.TopK(scores, options.TopK);
        scores = LogitsProcessing.TopP(scores, options.TopP);
        var probabilities = scores.softmax(-1);
        var next = new long[probabilities.shape[0]];
        for (int row = 0; row < next.Length; row++)
            next[row] = multinomial(probabilities[row], 1, generator: generators[row]).item<long>();
        return next;
    }

    public void Dispose()
    {
        foreach (var generator in generators) generator.Dispose();
    }
}
