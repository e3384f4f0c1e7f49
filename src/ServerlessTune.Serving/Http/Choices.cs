using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using ServerlessTune.Core.Feedback;
using ServerlessTune.Core.Generation;
using ServerlessTune.Core.Tokenization;
using ServerlessTune.Serving.Engine;
using ServerlessTune.Serving.Logging;
using ServerlessTune.Serving.Protocol;

namespace ServerlessTune.Serving.Http;

/// <summary>A choice's whole output, for responses that are not streamed.</summary>
sealed class ChoiceResult
{
    public StringBuilder Text { get; } = new();
    public List<TokenGenerated> Tokens { get; } = [];
    public PromptScored? Prompt { get; set; }
    public SequenceFinished? Finish { get; set; }

    public void Add(SequenceEvent e, CompletionTrace trace)
    {
        switch (e)
        {
            case PromptScored p: Prompt = p; break;
            case TokenGenerated t: trace.TokenArrived(); Tokens.Add(t); Text.Append(t.Text); break;
            case SequenceFinished f: Finish = f; Text.Append(f.Text); break;
        }
    }
}

/// <summary>What both endpoints do with the engine: submit a request's choices, read them merged or whole.</summary>
static class Choices
{
    /// <summary>Queues the sequences; a full engine is a 429 with Retry-After.</summary>
    public static IReadOnlyList<ChannelReader<SequenceEvent>> Submit(InferenceEngine engine, IReadOnlyList<SequenceRequest> sequences,
        CancellationToken ct)
    {
        try
        {
            return engine.Submit(sequences, ct);
        }
        catch (EngineFullException ex)
        {
            throw new ProtocolException(429, $"the server is busy: {ex.Message}; retry shortly", null, "rate_limit_exceeded", "requests")
            {
                RetryAfterSeconds = 1,
            };
        }
    }

    /// <summary>Events of every choice as they come, tagged with the choice index.</summary>
    public static async IAsyncEnumerable<(int Index, SequenceEvent Event)> MergeAsync(IReadOnlyList<ChannelReader<SequenceEvent>> readers,
        [EnumeratorCancellation] CancellationToken ct)
    {
        if (readers.Count == 1)
        {
            await foreach (var e in readers[0].ReadAllAsync(ct)) yield return (0, e);
            yield break;
        }
        var merged = Channel.CreateUnbounded<(int, SequenceEvent)>();
        var pumps = readers.Select(async (reader, index) =>
        {
            await foreach (var e in reader.ReadAllAsync(ct)) await merged.Writer.WriteAsync((index, e), ct);
        }).ToArray();
        _ = Task.WhenAll(pumps).ContinueWith(t => merged.Writer.TryComplete(t.Exception?.InnerException), TaskScheduler.Default);
        await foreach (var item in merged.Reader.ReadAllAsync(ct)) yield return item;
    }

    public static async Task<ChoiceResult[]> CollectAsync(IReadOnlyList<ChannelReader<SequenceEvent>> readers, CompletionTrace trace,
        CancellationToken ct)
    {
        var results = readers.Select(_ => new ChoiceResult()).ToArray();
        await foreach (var (index, e) in MergeAsync(readers, ct)) results[index].Add(e, trace);
        return results;
    }

    /// <summary>The choices as the conversation log keeps them.</summary>
    public static LoggedChoice[] Logged(IReadOnlyList<ChoiceResult> results) =>
        [.. results.Select((r, i) => new LoggedChoice(i, r.Text.ToString(), r.Finish is { } f ? FinishReason(f.Reason) : null))];

    public static string FinishReason(FinishReason reason) => reason == Core.Generation.FinishReason.Length ? "length" : "stop";

    /// <summary>The request's seed, or a fresh one (choice i samples with seed + i).</summary>
    public static long Seed(SamplingFields sampling) => sampling.Seed ?? BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8));

    public static string NewId(string prefix) => prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    /// <summary>
    /// New tokens for a prompt: what was asked, else generation_config's max_new_tokens, else up to the context;
    /// never more than the context holds (that is a 400, not a truncation).
    /// </summary>
    public static int MaxNewTokens(int? requested, GenerationConfig defaults, int promptTokens, int context, string promptParam, string tokensParam)
    {
        if (promptTokens >= context)
            throw new ProtocolException(400,
                $"This model's maximum context length is {context} tokens; the prompt has {promptTokens}, leaving no room to generate.",
                promptParam, "context_length_exceeded");
        int max = requested ?? Math.Min(defaults.MaxNewTokens ?? int.MaxValue, context - promptTokens);
        if (promptTokens + max > context)
            throw new ProtocolException(400,
                $"This model's maximum context length is {context} tokens. However, you requested {promptTokens + max} tokens " +
                $"({promptTokens} in the prompt, {max} for the completion).", requested is null ? promptParam : tokensParam,
                "context_length_exceeded");
        return max;
    }

    public static string TokenText(ITextTokenizer tokenizer, int id) => tokenizer.Decode([id]);
}
