using System.Diagnostics;
using ServerlessTune.Core.Feedback;
using ServerlessTune.Serving.Models;
using ServerlessTune.Serving.Protocol;

namespace ServerlessTune.Serving.Logging;

/// <summary>
/// One request's timing and outcome on its way to the conversation log: started when the request was read, the first
/// generated token marks the time to first token, and either the answer or the failure is counted and appended once.
/// </summary>
sealed class CompletionTrace(ServingMetrics metrics, ConversationLog? log, string endpoint, string model, bool store, IReadOnlyDictionary<string, string> metadata)
{
    readonly Stopwatch clock = Stopwatch.StartNew();
    readonly DateTimeOffset started = DateTimeOffset.UtcNow;
    double? firstToken;

    public string Id { get; set; } = "";

    public void TokenArrived() => firstToken ??= clock.Elapsed.TotalMilliseconds;

    public void Answered(ServedModel served, Usage usage, IReadOnlyList<LoggedChoice> choices,
        IReadOnlyList<Core.Chat.ChatMessage>? messages = null, IReadOnlyList<string>? prompts = null) =>
        Answered(served.Project, served.Version, usage, choices, messages, prompts);

    /// <summary>An answer of <paramref name="version"/> of <paramref name="project"/>, wherever it was generated (here or at a hosted service).</summary>
    public void Answered(string project, string version, Usage usage, IReadOnlyList<LoggedChoice> choices,
        IReadOnlyList<Core.Chat.ChatMessage>? messages = null, IReadOnlyList<string>? prompts = null) =>
        Finish(Record(project, version) with
        {
            Messages = messages, Prompts = prompts, Choices = choices,
            PromptTokens = usage.PromptTokens, CompletionTokens = usage.CompletionTokens,
        });

    public void Failed(ServedModel served, int status, string kind) => Failed(served.Project, served.Version, status, kind);

    public void Failed(string project, string version, int status, string kind) =>
        Finish(Record(project, version) with { Error = new LoggedError(status, kind) });

    void Finish(ConversationRecord record)
    {
        metrics.Record(record);
        log?.Append(record);
    }

    ConversationRecord Record(string project, string version) => new()
    {
        Id = Id.Length > 0 ? Id : "failed-" + Guid.NewGuid().ToString("N"),
        Endpoint = endpoint,
        Project = project,
        Version = version,
        Model = model,
        Created = started,
        Stored = store,
        Metadata = metadata.Count > 0 ? metadata : null,
        LatencyMs = clock.Elapsed.TotalMilliseconds,
        TtftMs = firstToken,
    };

    /// <summary>Runs the answering part of a request, logging how it failed when it does (then rethrowing).</summary>
    public async Task RunAsync(ServedModel served, CancellationToken aborted, Func<Task> answer)
    {
        try
        {
            await answer();
        }
        catch (ProtocolException ex)
        {
            Failed(served, ex.Status, ex.Code ?? ex.Type);
            throw;
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            Failed(served, 499, "client_disconnected");
            throw;
        }
        catch (Exception)
        {
            Failed(served, 500, "server_error");
            throw;
        }
    }
}
