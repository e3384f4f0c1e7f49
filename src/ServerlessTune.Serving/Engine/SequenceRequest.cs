using ServerlessTune.Core.Generation;

namespace ServerlessTune.Serving.Engine;

/// <summary>
/// One sequence for the engine: its prompt ids and how to decode it. Every field is per sequence, so rows that
/// share a batch keep their own sampling, stop strings, seed, penalties and log-probabilities.
/// </summary>
public sealed record SequenceRequest
{
    public required int[] Prompt { get; init; }
    /// <summary>MaxNewTokens 0 only scores the prompt (with <see cref="PromptLogprobs"/>).</summary>
    public required GenerationOptions Options { get; init; }
    /// <summary>Log-probability of each generated token, with this many alternatives (0 = the token alone).</summary>
    public int? TopLogprobs { get; init; }
    /// <summary>Log-probabilities of the prompt's tokens too (echo scoring), with <see cref="TopLogprobs"/> alternatives.</summary>
    public bool PromptLogprobs { get; init; }
}

/// <summary>A token's log-probability under the model (before sampling settings), and the likeliest alternatives.</summary>
public sealed record TokenLogprob(int Id, float Logprob, IReadOnlyList<(int Id, float Logprob)> Top);

/// <summary>What a sequence reports, in order: its prompt's scores (when asked), its tokens, then the end.</summary>
public abstract record SequenceEvent;

/// <summary>Scores of prompt tokens 1..n-1 (the first token has no context, so it has none).</summary>
public sealed record PromptScored(IReadOnlyList<TokenLogprob> Tokens) : SequenceEvent;

/// <summary>A generated token and the text it made safe to show (often empty: see SequenceText).</summary>
public sealed record TokenGenerated(int Id, string Text, TokenLogprob? Logprob) : SequenceEvent;

/// <param name="Text">Text not yet released by a token (the held-back tail).</param>
public sealed record SequenceFinished(FinishReason Reason, string Text, int PromptTokens, int CompletionTokens) : SequenceEvent;

/// <summary>The engine holds as many sequences as it may; the caller should retry later (HTTP 429).</summary>
public sealed class EngineFullException(string message) : Exception(message);
