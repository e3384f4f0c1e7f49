using System.Text.Json;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Feedback;

/// <summary>
/// projects/{project}/feedback-cutoff.json: the time the project's last run began reading the feedback log. Ratings made
/// after it are new: what `feedback.retrain_after` counts. Taken before the read, so no rating is missed; one made during
/// the read may count as new although the run used it.
/// </summary>
public sealed record FeedbackCutoff(string RunId, DateTimeOffset ReadFrom)
{
    public static async Task<FeedbackCutoff?> ReadAsync(IArtifactStore store, string project, CancellationToken ct = default)
    {
        string path = ArtifactLayout.FeedbackCutoff(project);
        if (!await store.ExistsAsync(path, ct)) return null;
        try { return JsonSerializer.Deserialize<FeedbackCutoff>(await store.ReadAllTextAsync(path, ct), LogJson.Options); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a feedback cutoff: {e.Message}", e); }
    }

    public Task WriteAsync(IArtifactStore store, string project, CancellationToken ct = default) =>
        store.WriteAllTextAsync(ArtifactLayout.FeedbackCutoff(project), JsonSerializer.Serialize(this, LogJson.Options), ct);

    /// <summary>
    /// Conversations rated after <paramref name="after"/> (all kept ratings when null), each counted once by its latest rating,
    /// within the days the feedback section reads.
    /// </summary>
    public static async Task<int> NewRatingsAsync(IArtifactStore store, string project, FeedbackOptions options, DateTimeOffset? after,
        CancellationToken ct = default)
    {
        DateOnly? from = after is { } t ? DateOnly.FromDateTime(t.UtcDateTime) : null;
        if (options.Since is { } since && (from is null || since > from)) from = since;
        var ratings = await DailyLogReader.RecordsAsync<FeedbackRecord>(store, ArtifactLayout.Feedback(project), from, ct);
        return FeedbackRecord.Latest(ratings).Count(r => after is null || r.Created > after);
    }
}
