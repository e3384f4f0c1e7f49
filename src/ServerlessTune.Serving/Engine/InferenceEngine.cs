using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using ServerlessTune.Core.Generation;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Modeling.Kernels;
using static TorchSharp.torch;

namespace ServerlessTune.Serving.Engine;

/// <summary>Sizes of one engine: decode slots, waiting sequences beyond them, and positions per slot.</summary>
public sealed record EngineLimits(int Slots, int QueueCapacity, int MaxContext);

/// <summary>
/// Continuous batching over one loaded model: one decode loop on its own thread. A submitted sequence waits in
/// a bounded queue, is prefilled in one forward pass when a slot frees, and from then on joins every decode step
/// of the running batch; a finished or cancelled sequence leaves at the next step and its slot is reused at once.
/// The cache is a <see cref="SlotKvCache"/>: rows keep their own lengths, so nothing is padded or copied when
/// the batch changes, and a sequence computes the same tokens whatever shares the batch.
/// </summary>
public sealed class InferenceEngine : IDisposable
{
    readonly ChatModel model;
    readonly CausalLM lm;
    readonly ILogger log;
    readonly SlotKvCache cache;
    readonly ConcurrentQueue<Sequence> waiting = new();
    readonly SemaphoreSlim wake = new(0);
    readonly Sequence?[] bySlot;
    readonly CancellationTokenSource stopping = new();
    readonly Thread loop;
    readonly int capacity;
    readonly Tensor? unreachable;
    int inFlight;
    long cancelled;

    public InferenceEngine(ChatModel model, EngineLimits limits, ILogger log)
    {
        this.model = model;
        this.log = log;
        lm = model.Generator.Model; // fused for decoding by its TextGenerator
        MaxContext = Math.Min(limits.MaxContext, lm.Config.MaxPositions);
        cache = new SlotKvCache(lm.Config, lm.DType, limits.Slots, MaxContext);
        bySlot = new Sequence?[limits.Slots];
        capacity = limits.Slots + limits.QueueCapacity;
        unreachable = TextGenerator.UnreachableTokens(lm.Config.VocabSize, model.Tokenizer.VocabSize)?.DetachFromDisposeScope();
        loop = new Thread(Run) { IsBackground = true, Name = "stune-decode" };
        loop.Start();
    }

    /// <summary>Positions a prompt and its output share (the model's context, or less to bound the cache).</summary>
    public int MaxContext { get; }

    /// <summary>Sequences accepted and not yet finished (running and waiting).</summary>
    public int InFlight => Volatile.Read(ref inFlight);

    public int Capacity => capacity;

    /// <summary>Sequences ended because their request was cancelled (the client went away) before they finished.</summary>
    public long Cancelled => Interlocked.Read(ref cancelled);

    /// <summary>
    /// Queues sequences (a request's n choices together, or none of them); each reader yields its events and
    /// completes when it ends. Cancelling <paramref name="cancellation"/> frees their slots at the next step.
    /// Throws <see cref="EngineFullException"/> when accepting them would exceed the queue.
    /// </summary>
    public IReadOnlyList<ChannelReader<SequenceEvent>> Submit(IReadOnlyList<SequenceRequest> requests, CancellationToken cancellation)
    {
        ObjectDisposedException.ThrowIf(stopping.IsCancellationRequested, this);
        foreach (var r in requests)
            if (r.Prompt.Length == 0 || r.Prompt.Length + r.Options.MaxNewTokens > MaxContext)
                throw new ArgumentException($"prompt of {r.Prompt.Length} tokens plus {r.Options.MaxNewTokens} new ones does not fit {MaxContext}");
        while (true)
        {
            int current = Volatile.Read(ref inFlight);
            if (current + requests.Count > capacity)
                throw new EngineFullException($"{current} sequences are in flight; this server holds {capacity}");
            if (Interlocked.CompareExchange(ref inFlight, current + requests.Count, current) == current) break;
        }
        var sequences = requests.Select(r =>
            new Sequence(r, Math.Min(r.Options.MaxNewTokens, MaxContext - r.Prompt.Length), model.Tokenizer.Decode, cancellation)).ToArray();
        foreach (var s in sequences) waiting.Enqueue(s);
        wake.Release();
        return sequences.Select(s => s.Events).ToArray();
    }

    void Run()
    {
        using var inference = inference_mode();
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                Admit();
                if (cache.End == 0)
                {
                    wake.Wait(TimeSpan.FromMilliseconds(200));
                    continue;
                }
                DecodeStep();
            }
            catch (Exception ex)
            {
                // A failed pass fails the sequences it carried, not the server.
                log.LogError(ex, "decode step failed");
                foreach (var s in bySlot.OfType<Sequence>().ToArray()) Finish(s, error: ex);
            }
        }
        foreach (var s in bySlot.OfType<Sequence>().ToArray()) Finish(s, error: new OperationCanceledException("the model was unloaded"));
        while (waiting.TryDequeue(out var s)) Drop(s, new OperationCanceledException("the model was unloaded"));
    }

    /// <summary>Moves waiting sequences into free slots, each prefilled in one forward pass.</summary>
    void Admit()
    {
        while (cache.FreeSlots > 0 && waiting.TryDequeue(out var s))
        {
            if (s.Cancellation.IsCancellationRequested)
            {
                Interlocked.Increment(ref cancelled);
                Drop(s, null);
                continue;
            }
            try
            {
                Prefill(s);
            }
            catch (Exception ex)
            {
                log.LogError(ex, "prefill failed");
                if (s.Slot >= 0) Finish(s, error: ex);
                else Drop(s, ex);
            }
        }
    }

    void Prefill(Sequence s)
    {
        using var scope = NewDisposeScope();
        var request = s.Request;
        s.Slot = cache.Acquire()!.Value;
        bySlot[s.Slot] = s;
        cache.Select(s.Slot, 1);
        var ids = tensor(request.Prompt.Select(i => (long)i).ToArray(), 1, request.Prompt.Length);
        Tensor last;
        if (request.PromptLogprobs)
        {
            var logits = Reachable(lm.forward(ids, null, cache)[0]);
            s.Emit(new PromptScored(Score(logits.narrow(0, 0, request.Prompt.Length - 1), request.Prompt.Skip(1).ToArray(),
                request.TopLogprobs ?? 0)));
            last = logits[-1].unsqueeze(0);
        }
        else
        {
            last = Reachable(lm.NextTokenLogits(ids, null, cache));
        }
        if (s.Budget == 0)
        {
            Finish(s, FinishReason.Length);
            return;
        }
        var options = request.Options;
        s.Sampler = new TokenSampler(options, 1);
        if (options.RepetitionPenalty != 1.0)
        {
            s.Seen = zeros(1, lm.Config.VocabSize, ScalarType.Bool).DetachFromDisposeScope();
            foreach (var id in request.Prompt) s.Seen[0, id] = true;
        }
        if (options.CountsOutput) s.Counts = zeros(1, lm.Config.VocabSize).DetachFromDisposeScope();
        Advance(s, last);
    }

    /// <summary>One token for every running sequence: a single forward over the slot range in use.</summary>
    void DecodeStep()
    {
        // A disconnected client's slot is freed before the pass, not after it.
        foreach (var s in bySlot.OfType<Sequence>().Where(s => s.Cancellation.IsCancellationRequested).ToArray())
        {
            Interlocked.Increment(ref cancelled);
            Finish(s, error: new OperationCanceledException(s.Cancellation));
        }
        int end = cache.End;
        if (end == 0) return;
        using var scope = NewDisposeScope();
        var ids = new long[end];
        for (int slot = 0; slot < end; slot++) ids[slot] = bySlot[slot]?.Last ?? 0;
        cache.Select(0, end);
        // Sampling too: its few ops over the vocabulary would otherwise wake torch's OpenMP threads every step.
        using var threads = DecodeThreads.Enter(lm, end);
        var logits = Reachable(lm.NextTokenLogits(tensor(ids, end, 1), null, cache));
        for (int slot = 0; slot < end; slot++)
            if (bySlot[slot] is { } s)
                Advance(s, logits.narrow(0, slot, 1));
    }

    /// <summary>Samples the sequence's next token from its logits [1, V] and reports it, or ends the sequence.</summary>
    void Advance(Sequence s, Tensor logits)
    {
        var token = (int)s.Sampler!.Next(logits, s.Seen, s.Counts)[0];
        TokenLogprob? logprob = s.Request.TopLogprobs is { } top ? Score(logits, [token], top)[0] : null;
        if (model.Generator.EndTokenIds.Contains(token))
        {
            Finish(s, FinishReason.Stop);
            return;
        }
        s.Generated++;
        if (s.Seen is not null) s.Seen[0, token] = true;
        if (s.Counts is not null) s.Counts[0, token] += 1;
        s.Emit(new TokenGenerated(token, s.Text.Push(token), logprob));
        if (s.Text.StoppedByString) Finish(s, FinishReason.Stop);
        else if (s.Generated >= s.Budget) Finish(s, FinishReason.Length);
        else s.Last = token;
    }

    /// <summary>Ends a running sequence and frees its slot for the next waiting one.</summary>
    void Finish(Sequence s, FinishReason reason = FinishReason.Stop, Exception? error = null)
    {
        if (error is null) s.Emit(new SequenceFinished(reason, s.Text.Finish(), s.Request.Prompt.Length, s.Generated));
        if (s.Slot >= 0)
        {
            cache.Release(s.Slot);
            bySlot[s.Slot] = null;
            s.Slot = -1;
        }
        Drop(s, error);
    }

    void Drop(Sequence s, Exception? error)
    {
        s.Complete(error);
        s.Dispose();
        Interlocked.Decrement(ref inFlight);
    }

    /// <summary>In place: the logits are the step's own, so a copy would only allocate and write the vocabulary again.</summary>
    Tensor Reachable(Tensor logits) => unreachable is null ? logits : logits.masked_fill_(unreachable, float.NegativeInfinity);

    /// <summary>Row t of <paramref name="logits"/> scores <paramref name="targets"/>[t]: its log-probability and the top alternatives.</summary>
    static TokenLogprob[] Score(Tensor logits, int[] targets, int top)
    {
        using var scope = NewDisposeScope();
        if (targets.Length == 0) return [];
        var logprobs = logits.log_softmax(-1);
        var index = tensor(targets.Select(t => (long)t).ToArray(), targets.Length, 1);
        var chosen = logprobs.gather(1, index).squeeze(1).data<float>().ToArray();
        (float[] Values, long[] Ids) best = ([], []);
        if (top > 0)
        {
            var (values, ids) = logprobs.topk(top, dim: -1);
            best = (values.data<float>().ToArray(), ids.data<long>().ToArray());
        }
        return targets.Select((t, row) => new TokenLogprob(t, chosen[row],
            Enumerable.Range(row * top, top).Select(i => ((int)best.Ids[i], best.Values[i])).ToArray())).ToArray();
    }

    /// <summary>Stops the loop; sequences still running or waiting end with an error.</summary>
    public void Dispose()
    {
        if (stopping.IsCancellationRequested) return;
        stopping.Cancel();
        wake.Release();
        loop.Join();
        cache.Dispose();
        unreachable?.Dispose();
        wake.Dispose();
    }
}
