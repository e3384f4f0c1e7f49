using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Modeling.Kernels;
using ServerlessTune.Core.Tokenization;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Generation;

/// <summary>
/// Autoregressive decoding over a CausalLM with a KV cache: one forward pass over the (left-padded)
/// prompts, then one token per step. Each row stops on its own (end token, stop string, its token
/// budget). A finished row keeps being fed a pad token that its attention mask marks as padding, so
/// its positions stop growing (a row that filled the context never runs past it) and the live rows
/// compute exactly what they would alone.
/// </summary>
public sealed class TextGenerator
{
    readonly CausalLM model;
    readonly ITextTokenizer tokenizer;
    readonly HashSet<int> endTokenIds;
    readonly long padId;

    /// <param name="endTokenIds">Tokens that end a sequence (EOS ids of the config and tokenizer, the chat
    /// template's end of turn). Never part of the returned text.</param>
    public TextGenerator(CausalLM model, ITextTokenizer tokenizer, IEnumerable<int> endTokenIds)
    {
        this.model = model;
        this.tokenizer = tokenizer;
        this.endTokenIds = [.. endTokenIds];
        padId = tokenizer.PadTokenId ?? (this.endTokenIds.Count > 0 ? this.endTokenIds.Min() : 0);
        model.eval();
        model.PrepareForDecoding();
    }

    public CausalLM Model => model;

    public ITextTokenizer Tokenizer => tokenizer;

    public IReadOnlySet<int> EndTokenIds => endTokenIds;

    /// <summary>Generates a continuation of every prompt. <paramref name="onText"/> receives (row, delta)
    /// as text becomes safe to show; a row's deltas concatenate to its result's Text.</summary>
    public IReadOnlyList<GenerationResult> Generate(IReadOnlyList<int[]> prompts, GenerationOptions options,
        Action<int, string>? onText = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var budgets = TokenBudgets(prompts, options.MaxNewTokens);
        var rows = prompts.Count;
        var stops = new StopStrings(options.StopStrings);
        var texts = prompts.Select(_ => new SequenceText(tokenizer.Decode, stops)).ToArray();
        var generated = prompts.Select(_ => new List<int>()).ToArray();
        var finished = new FinishReason?[rows];

        // Not only no gradients: no autograd bookkeeping (version counters, view tracking) on any op.
        using var inference = inference_mode();
        using var sampler = new TokenSampler(options, rows);
        // One sequence needs no padding mask: a preallocated cache appends in place instead of growing by
        // concatenation, and each step skips the mask's growth and padding check.
        bool single = rows == 1;
        using KvCache cache = single ? OneSequenceCache(prompts[0].Length + budgets[0]) : model.NewCache();
        // Only the repetition penalty reads which tokens a row holds.
        using var seen = options.RepetitionPenalty == 1.0 ? null : SeenTokens(prompts);
        using var seenNow = seen is null ? null : ones(rows, 1, ScalarType.Bool);
        using var counts = options.CountsOutput ? zeros(rows, model.Config.VocabSize) : null;
        using var one = options.CountsOutput ? ones(rows, 1) : null;
        using var unreachable = UnknownTokenMask();
        var (inputIds, mask) = LeftPadded(prompts);
        Tensor? logits = null;
        try
        {
            logits = NextTokenLogits(inputIds, single ? null : mask, cache, unreachable);
            // After the prompt's pass, every step (sampling included) runs torch on one thread: see DecodeThreads.
            using var threads = DecodeThreads.Enter(model, rows);
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var next = sampler.Next(logits, seen, counts);
                for (int row = 0; row < rows; row++)
                {
                    if (finished[row] is not null)
                    {
                        next[row] = padId;
                        continue;
                    }
                    finished[row] = Advance(row, (int)next[row]);
                    if (finished[row] is not null) Emit(row, texts[row].Finish());
                }
                if (finished.All(f => f is not null)) break;

                using var nextIds = tensor(next, rows, 1);
                seen?.scatter_(1, nextIds, seenNow!);
                counts?.scatter_add_(1, nextIds, one!);
                if (!single)
                {
                    using var live = tensor(finished.Select(f => f is null ? 1L : 0L).ToArray(), rows, 1);
                    var longerMask = cat([mask, live], 1);
                    mask.Dispose();
                    mask = longerMask;
                }
                logits.Dispose();
                logits = NextTokenLogits(nextIds, single ? null : mask, cache, unreachable);
            }
        }
        finally
        {
            inputIds.Dispose();
            mask.Dispose();
            logits?.Dispose();
        }
        return Enumerable.Range(0, rows)
            .Select(r => new GenerationResult(texts[r].Text, [.. generated[r]], finished[r]!.Value, prompts[r].Length))
            .ToArray();

        FinishReason? Advance(int row, int token)
        {
            if (endTokenIds.Contains(token)) return FinishReason.Stop;
            generated[row].Add(token);
            Emit(row, texts[row].Push(token));
            if (texts[row].StoppedByString) return FinishReason.Stop;
            return generated[row].Count == budgets[row] ? FinishReason.Length : null;
        }

        void Emit(int row, string delta)
        {
            if (delta.Length > 0) onText?.Invoke(row, delta);
        }
    }

    /// <summary>Streams one prompt's text deltas as they are generated (on a worker thread). Stopping the
    /// enumeration early, or cancelling, stops the generation.</summary>
    public async IAsyncEnumerable<string> StreamAsync(int[] prompt, GenerationOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        options.Validate();
        var channel = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var worker = Task.Run(() =>
        {
            try
            {
                Generate([prompt], options, (_, delta) => channel.Writer.TryWrite(delta), stop.Token);
                channel.Writer.Complete();
            }
            catch (Exception ex)
            {
                channel.Writer.Complete(ex);
            }
        }, CancellationToken.None);
        try
        {
            await foreach (var delta in channel.Reader.ReadAllAsync(cancellationToken))
                yield return delta;
        }
        finally
        {
            stop.Cancel();
            await worker;
        }
    }

    /// <summary>Per row: how many tokens it may add, capped so it never runs past the model's context.</summary>
    int[] TokenBudgets(IReadOnlyList<int[]> prompts, int maxNewTokens)
    {
        if (prompts.Count == 0) throw new UserInputException("no prompts to generate from");
        var context = model.Config.MaxPositions;
        var budgets = new int[prompts.Count];
        for (int i = 0; i < prompts.Count; i++)
        {
            var length = prompts[i].Length;
            if (length == 0) throw new UserInputException($"prompt {i + 1} is empty");
            if (length >= context)
                throw new UserInputException($"prompt {i + 1} has {length} tokens; the model's context holds {context}, leaving no room to generate");
            var outOfRange = prompts[i].FirstOrDefault(id => id < 0 || id >= model.Config.VocabSize, -1);
            if (outOfRange != -1)
                throw new UserInputException($"prompt {i + 1} has token id {outOfRange}, outside the model's vocabulary of {model.Config.VocabSize}");
            budgets[i] = Math.Min(maxNewTokens, context - length);
        }
        return budgets;
    }

    /// <summary>[B, P] ids and attention mask with padding on the left, so every row's next token is the last column.</summary>
    (Tensor Ids, Tensor Mask) LeftPadded(IReadOnlyList<int[]> prompts)
    {
        var width = prompts.Max(p => p.Length);
        var ids = new long[prompts.Count * width];
        var mask = new long[prompts.Count * width];
        for (int r = 0; r < prompts.Count; r++)
        {
            var offset = r * width + width - prompts[r].Length;
            Array.Fill(ids, padId, r * width, width - prompts[r].Length);
            for (int t = 0; t < prompts[r].Length; t++)
            {
                ids[offset + t] = prompts[r][t];
                mask[offset + t] = 1;
            }
        }
        return (tensor(ids, prompts.Count, width), tensor(mask, prompts.Count, width));
    }

    /// <summary>[B, V]: which tokens each prompt holds, for the repetition penalty (padding excluded).</summary>
    Tensor SeenTokens(IReadOnlyList<int[]> prompts)
    {
        var vocab = model.Config.VocabSize;
        var seen = new bool[prompts.Count * vocab];
        for (int r = 0; r < prompts.Count; r++)
            foreach (var id in prompts[r])
                seen[r * vocab + id] = true;
        return tensor(seen, prompts.Count, vocab);
    }

    /// <summary>Embedding rows past the tokenizer's vocabulary (checkpoints pad the vocabulary to a
    /// round size) have no text: never pick them. [V] bool, or null when every row has a token.</summary>
    public static Tensor? UnreachableTokens(int modelVocab, int tokenizerVocab) =>
        tokenizerVocab >= modelVocab ? null : arange(modelVocab) >= tokenizerVocab;

    Tensor? UnknownTokenMask() => UnreachableTokens(model.Config.VocabSize, tokenizer.VocabSize);

    SlotKvCache OneSequenceCache(int positions)
    {
        var cache = new SlotKvCache(model.Config, model.DType, slots: 1, positions);
        cache.Acquire();
        cache.Select(0, 1);
        return cache;
    }

    Tensor NextTokenLogits(Tensor inputIds, Tensor? mask, KvCache cache, Tensor? unreachable)
    {
        using var scope = NewDisposeScope();
        var last = model.NextTokenLogits(inputIds, mask, cache);
        // In place: the logits are this step's own (a copy would allocate and write the vocabulary again).
        if (unreachable is not null) last.masked_fill_(unreachable, float.NegativeInfinity);
        return last.contiguous().MoveToOuterDisposeScope();
    }
}
