using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Feedback;

/// <summary>stats.json's account of every feedback record read: what became training data, evaluation cases, or was left out and why.</summary>
/// <param name="Records">Every feedback line read (= rated up + corrected + evaluation cases + the excluded).</param>
public sealed record FeedbackStats(long Records, long RatedUp, long Corrected, long EvaluationCases, SortedDictionary<string, long> Excluded)
{
    public bool Balanced => Records == RatedUp + Corrected + EvaluationCases + Excluded.Values.Sum();
}

/// <summary>
/// A served answer users rejected, as an evaluation case (prepared/{run}/feedback_cases.jsonl). Without a correction it was
/// rated down and is never trained on: the next version should answer it better. With one, the correction is trained on
/// and is the reference the next version is scored against (a measure of what it learnt, not of generalisation).
/// </summary>
/// <param name="RejectedAnswer">The answer as served (replaced by the correction when there is one).</param>
public sealed record FeedbackCase(string Id, string Version, IReadOnlyList<ChatMessage> Messages, string RejectedAnswer, string? Comment,
    string? Correction = null);

/// <summary>What the logs give a run: chats to train on (the conversation plus its approved or corrected answer) and cases
/// (the rated-down answers and the corrected ones).</summary>
public sealed record FeedbackHarvest(IReadOnlyList<IReadOnlyList<ChatMessage>> Chats, IReadOnlyList<FeedbackCase> Cases, FeedbackStats Stats);

/// <summary>
/// The conversation and feedback logs as a data source. Each completion's latest rating decides: a correction replaces the
/// rated answer and is trained on; a rating at or above the minimum trains on the answer as served; a rated-down answer
/// without a correction is never trained on and becomes an evaluation case. Every feedback line is counted once.
/// </summary>
public static class FeedbackSource
{
    public const string Superseded = "superseded by a later rating of the same completion";
    public const string Unreadable = "unreadable feedback line";
    public const string UnknownCompletion = "completion not in the conversation log (older than its retention, or since)";
    public const string NotStored = "completion logged without content (store: false)";
    public const string NotChat = "not a chat completion";

    public static async Task<FeedbackHarvest> CollectAsync(IArtifactStore store, string project, FeedbackOptions options, CancellationToken ct = default)
    {
        var conversations = new Dictionary<string, ConversationRecord>(StringComparer.Ordinal);
        foreach (var c in await DailyLogReader.RecordsAsync<ConversationRecord>(store, ArtifactLayout.Conversations(project), options.Since, ct))
            if (c.Error is null) conversations.TryAdd(c.Id, c);
        var excluded = new SortedDictionary<string, long>(StringComparer.Ordinal);
        void Exclude(string reason) => excluded[reason] = excluded.GetValueOrDefault(reason) + 1;
        var ratings = new List<FeedbackRecord>();
        long lines = 0;
        await foreach (var line in DailyLogReader.ReadAsync<FeedbackRecord>(store, ArtifactLayout.Feedback(project), options.Since, ct))
        {
            lines++;
            if (line.Record is { } r) ratings.Add(r);
            else Exclude(Unreadable);
        }
        var latest = FeedbackRecord.Latest(ratings);
        for (int i = latest.Count; i < ratings.Count; i++) Exclude(Superseded);

        var chats = new List<IReadOnlyList<ChatMessage>>();
        var cases = new List<FeedbackCase>();
        long up = 0, corrected = 0;
        foreach (var rating in latest)
        {
            if (!conversations.TryGetValue(rating.CompletionId, out var served)) { Exclude(UnknownCompletion); continue; }
            if (!served.Stored || served.Choices is not [{ Text: { } answer }, ..]) { Exclude(NotStored); continue; }
            if (served.Endpoint != ConversationRecord.Chat || served.Messages is not { Count: > 0 } messages) { Exclude(NotChat); continue; }
            if (rating.Correction is { } correction)
            {
                chats.Add([.. messages, new ChatMessage(ChatMessage.Assistant, correction)]);
                cases.Add(new FeedbackCase(rating.CompletionId, served.Version, messages, answer, rating.Comment, correction));
                corrected++;
            }
            else if (rating.Rating >= options.MinRating)
            {
                chats.Add([.. messages, new ChatMessage(ChatMessage.Assistant, answer)]);
                up++;
            }
            else
            {
                cases.Add(new FeedbackCase(rating.CompletionId, served.Version, messages, answer, rating.Comment));
            }
        }
        var stats = new FeedbackStats(lines, up, corrected, cases.Count(c => c.Correction is null), excluded);
        if (!stats.Balanced) throw new InvalidOperationException($"feedback accounting does not balance: {stats}");
        return new FeedbackHarvest(chats, cases, stats);
    }

    /// <summary>Deletes both logs' day folders older than the retention; returns how many files went.</summary>
    public static async Task<int> ApplyRetentionAsync(IArtifactStore store, string project, FeedbackOptions options, DateOnly today,
        CancellationToken ct = default)
    {
        var keepFrom = today.AddDays(-options.RetentionDays);
        return await DailyLogReader.DeleteBeforeAsync(store, ArtifactLayout.Conversations(project), keepFrom, ct)
               + await DailyLogReader.DeleteBeforeAsync(store, ArtifactLayout.Feedback(project), keepFrom, ct);
    }
}
