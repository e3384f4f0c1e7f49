using ServerlessTune.Core.Common;
using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Feedback;

/// <summary>`stune monitor`, GET /api/projects/{project}/metrics and the dashboard: how each version did in use, per day.</summary>
public sealed record UsageReport(string Project, DateOnly? Since, DateTimeOffset Generated, IReadOnlyList<VersionDay> Days);

/// <param name="Requests">Every logged request of the version that day, answered or failed.</param>
/// <param name="Errors">Failed requests by kind (OpenAI's error code, or client_disconnected).</param>
/// <param name="ThumbsUpInterval">Wilson 95 % interval of the thumbs-up rate.</param>
/// <param name="RefusalRate">Answers that decline (the evaluation's refusal phrases), over stored choices.</param>
/// <param name="LengthStopRate">Choices cut by the token limit, over all answered choices.</param>
public sealed record VersionDay(
    string Version, DateOnly Day, int Requests, IReadOnlyDictionary<string, int> Errors,
    Spread? LatencyMs, Spread? TtftMs, long PromptTokens, long CompletionTokens,
    int Rated, int ThumbsUp, double? ThumbsUpRate, double[]? ThumbsUpInterval, int Corrections,
    double? RefusalRate, double? LengthStopRate);

public sealed record Spread(double P50, double P95);

public static class UsageMetrics
{
    /// <summary>Reads the project's conversation and feedback logs from <paramref name="since"/> on and summarises them.</summary>
    public static async Task<UsageReport> ReadAsync(IArtifactStore store, string project, DateOnly? since, CancellationToken ct = default)
    {
        var conversations = await DailyLogReader.RecordsAsync<ConversationRecord>(store, ArtifactLayout.Conversations(project), since, ct);
        var feedback = await DailyLogReader.RecordsAsync<FeedbackRecord>(store, ArtifactLayout.Feedback(project), since, ct);
        return Summarise(project, since, conversations, feedback);
    }

    /// <summary>
    /// One row per version and UTC day. A rating counts on the day and version of the completion it rates (its own
    /// version and day when the completion fell out of the log); the latest rating of a completion is the one counted.
    /// </summary>
    public static UsageReport Summarise(string project, DateOnly? since, IReadOnlyList<ConversationRecord> conversations,
        IReadOnlyList<FeedbackRecord> feedback)
    {
        static DateOnly DayOf(DateTimeOffset t) => DateOnly.FromDateTime(t.UtcDateTime);
        var served = conversations.Where(c => c.Error is null).GroupBy(c => c.Id, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var ratings = FeedbackRecord.Latest(feedback).Select(f => served.TryGetValue(f.CompletionId, out var c)
            ? (Version: c.Version, Day: DayOf(c.Created), f)
            : (Version: f.Version, Day: DayOf(f.Created), f)).ToList();
        var keys = conversations.Select(c => (c.Version, Day: DayOf(c.Created))).Concat(ratings.Select(r => (r.Version, r.Day))).Distinct()
            .OrderBy(k => k.Day).ThenBy(k => k.Version, StringComparer.Ordinal);
        var rows = new List<VersionDay>();
        foreach (var (version, day) in keys)
        {
            var records = conversations.Where(c => c.Version == version && DayOf(c.Created) == day).ToList();
            var answered = records.Where(r => r.Error is null).ToList();
            var choices = answered.SelectMany(r => r.Choices).ToList();
            var stored = choices.Where(c => c.Text is not null).ToList();
            var rated = ratings.Where(r => r.Version == version && r.Day == day).Select(r => r.f).ToList();
            int up = rated.Count(r => r.Rating > 0);
            var interval = rated.Count > 0 ? Statistics.Wilson(up, rated.Count) : ((double, double)?)null;
            rows.Add(new VersionDay(version, day, records.Count,
                new SortedDictionary<string, int>(records.Where(r => r.Error is not null).GroupBy(r => r.Error!.Kind)
                    .ToDictionary(g => g.Key, g => g.Count()), StringComparer.Ordinal),
                SpreadOf(answered.Select(r => r.LatencyMs)), SpreadOf(answered.Where(r => r.TtftMs is not null).Select(r => r.TtftMs!.Value)),
                answered.Sum(r => (long)r.PromptTokens), answered.Sum(r => (long)r.CompletionTokens),
                rated.Count, up, rated.Count > 0 ? (double)up / rated.Count : null,
                interval is { } i ? [i.Item1, i.Item2] : null,
                rated.Count(r => r.Correction is not null),
                stored.Count > 0 ? (double)stored.Count(c => RefusalDetector.FindRefusal(c.Text!) is not null) / stored.Count : null,
                choices.Count > 0 ? (double)choices.Count(c => c.FinishReason == "length") / choices.Count : null));
        }
        return new UsageReport(project, since, DateTimeOffset.UtcNow, rows);
    }

    static Spread? SpreadOf(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? null : new Spread(Statistics.Percentile(sorted, 0.5), Statistics.Percentile(sorted, 0.95));
    }
}
