using System.Text.Json;
using System.Text.Json.Serialization;
using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Data.Redaction;

namespace ServerlessTune.Core.Feedback;

/// <summary>
/// One served completion (or a request that failed once its model was known), as the conversation log keeps it.
/// Without <see cref="Stored"/> only counts are kept: no messages, no text, no metadata.
/// </summary>
public sealed record ConversationRecord
{
    public const string Chat = "chat";
    public const string Completion = "completion";

    public required string Id { get; init; }
    /// <summary><see cref="Chat"/> (/v1/chat/completions) or <see cref="Completion"/> (/v1/completions).</summary>
    public required string Endpoint { get; init; }
    public required string Project { get; init; }
    /// <summary>The registered version that answered (the response's system_fingerprint).</summary>
    public required string Version { get; init; }
    /// <summary>The model name the client asked for.</summary>
    public required string Model { get; init; }
    public required DateTimeOffset Created { get; init; }
    public bool Stored { get; init; }
    public IReadOnlyList<ChatMessage>? Messages { get; init; }
    /// <summary>The legacy endpoint's prompts as text (token-id prompts decoded).</summary>
    public IReadOnlyList<string>? Prompts { get; init; }
    public IReadOnlyList<LoggedChoice> Choices { get; init; } = [];
    public int PromptTokens { get; init; }
    public int CompletionTokens { get; init; }
    public double LatencyMs { get; init; }
    /// <summary>Request arrival to the first generated token; null when none was generated.</summary>
    public double? TtftMs { get; init; }
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
    public LoggedError? Error { get; init; }
    /// <summary>Personal data replaced by placeholders before the record was written.</summary>
    public int Redacted { get; init; }

    /// <summary>The record with every text it carries passed through the data-preparation redactor.</summary>
    public ConversationRecord WithPiiRedacted()
    {
        var counts = new int[PiiRedactor.TypeCount];
        string R(string text) => PiiRedactor.Redact(text, counts);
        var redacted = this with
        {
            Messages = Messages?.Select(m => m with { Content = R(m.Content) }).ToArray(),
            Prompts = Prompts?.Select(R).ToArray(),
            Choices = [.. Choices.Select(c => c with { Text = c.Text is null ? null : R(c.Text) })],
            Metadata = Metadata?.ToDictionary(p => p.Key, p => R(p.Value)),
        };
        return redacted with { Redacted = Redacted + counts.Sum() };
    }

    /// <summary>What `store: false` keeps: the counts, never the content.</summary>
    public ConversationRecord CountsOnly() => this with
    {
        Stored = false, Messages = null, Prompts = null, Metadata = null,
        Choices = [.. Choices.Select(c => c with { Text = null })],
    };
}

public sealed record LoggedChoice(int Index, string? Text, string? FinishReason);

/// <param name="Kind">OpenAI's error code (e.g. context_length_exceeded, rate_limit_exceeded) or "client_disconnected".</param>
public sealed record LoggedError(int Status, string Kind);

/// <summary>A user's verdict on one completion. The log is append-only: the latest record per completion wins.</summary>
public sealed record FeedbackRecord
{
    public required string CompletionId { get; init; }
    public required string Project { get; init; }
    public required string Version { get; init; }
    /// <summary>+1 or -1.</summary>
    public required int Rating { get; init; }
    public string? Comment { get; init; }
    /// <summary>The answer the assistant should have given.</summary>
    public string? Correction { get; init; }
    public required DateTimeOffset Created { get; init; }

    public FeedbackRecord WithPiiRedacted()
    {
        var counts = new int[PiiRedactor.TypeCount];
        return this with
        {
            Comment = Comment is null ? null : PiiRedactor.Redact(Comment, counts),
            Correction = Correction is null ? null : PiiRedactor.Redact(Correction, counts),
        };
    }

    /// <summary>The latest verdict per completion id, in the order the ids were first rated.</summary>
    public static IReadOnlyList<FeedbackRecord> Latest(IEnumerable<FeedbackRecord> records) =>
        [.. records.Select((r, i) => (r, i)).GroupBy(x => x.r.CompletionId, StringComparer.Ordinal)
            .Select(g => g.MaxBy(x => (x.r.Created, x.i)).r)];
}

/// <summary>The one JSON shape of both logs (snake_case, nulls left out).</summary>
public static class LogJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
