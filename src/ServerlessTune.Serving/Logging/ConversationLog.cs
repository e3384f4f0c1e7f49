using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using ServerlessTune.Core.Feedback;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Serving.Logging;

/// <summary>
/// The serving side of the conversation and feedback logs: every answered completion is appended (redacted unless
/// turned off; counts only for `store: false`), and a completion id can be found again for its feedback, first among
/// this instance's recent completions, then in the log itself (another instance, or before a restart).
/// </summary>
public sealed class ConversationLog : IAsyncDisposable
{
    const int RecentCapacity = 100_000;
    /// <summary>How far back a completion id is looked up in the log when this instance did not serve it.</summary>
    const int LookupDays = 7;

    readonly IArtifactStore store;
    readonly bool redactPii;
    readonly DailyLogWriter writer;
    readonly ConcurrentDictionary<string, ServedCompletion> recent = new(StringComparer.Ordinal);
    readonly ConcurrentQueue<string> recentOrder = new();

    public ConversationLog(IArtifactStore store, bool redactPii, TimeSpan flushInterval, ILogger log)
    {
        this.store = store;
        this.redactPii = redactPii;
        writer = new DailyLogWriter(store, flushInterval, onError: ex => log.LogError(ex, "writing the conversation log failed; retrying"));
    }

    public string Writer => writer.Writer;

    public void Append(ConversationRecord record)
    {
        var kept = record.Stored ? (redactPii ? record.WithPiiRedacted() : record) : record.CountsOnly();
        writer.Append(ArtifactLayout.Conversations(record.Project), record.Created, kept);
        if (record.Error is not null) return;
        if (recent.TryAdd(record.Id, new ServedCompletion(record.Project, record.Version)))
        {
            recentOrder.Enqueue(record.Id);
            while (recentOrder.Count > RecentCapacity && recentOrder.TryDequeue(out var oldest)) recent.TryRemove(oldest, out _);
        }
    }

    public void Append(FeedbackRecord record) =>
        writer.Append(ArtifactLayout.Feedback(record.Project), record.Created, redactPii ? record.WithPiiRedacted() : record);

    /// <summary>The project and version that answered a completion id, or null when no log knows it.</summary>
    public async Task<ServedCompletion?> FindAsync(string completionId, IEnumerable<string> projects, CancellationToken ct)
    {
        if (recent.TryGetValue(completionId, out var served)) return served;
        var since = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-LookupDays);
        foreach (var project in projects.Distinct(StringComparer.Ordinal))
            await foreach (var line in DailyLogReader.ReadAsync<ConversationRecord>(store, ArtifactLayout.Conversations(project), since, ct))
                if (line.Record is { Error: null } r && r.Id == completionId) return new ServedCompletion(r.Project, r.Version);
        return null;
    }

    public Task FlushAsync(CancellationToken ct = default) => writer.FlushAsync(ct);

    /// <summary>The project's usage per version and day, including what this instance has not written yet.</summary>
    public async Task<UsageReport> MetricsAsync(string project, DateOnly? since, CancellationToken ct)
    {
        await writer.FlushAsync(ct);
        return await UsageMetrics.ReadAsync(store, project, since, ct);
    }

    public ValueTask DisposeAsync() => writer.DisposeAsync();
}

public sealed record ServedCompletion(string Project, string Version);
