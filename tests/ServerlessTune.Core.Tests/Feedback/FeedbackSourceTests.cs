using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Feedback;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Tests.Feedback;

/// <summary>The logs as a data source: every feedback line is accounted for, and only approved or corrected answers train.</summary>
public sealed class FeedbackSourceTests
{
    static readonly DateTimeOffset Day = new(2026, 11, 24, 10, 0, 0, TimeSpan.Zero);

    static ConversationRecord Served(string id, bool stored = true, string endpoint = ConversationRecord.Chat) => new()
    {
        Id = id, Endpoint = endpoint, Project = "acme", Version = "v1", Model = "acme", Created = Day, Stored = stored,
        Messages = stored ? [new ChatMessage(ChatMessage.User, $"question {id}")] : null,
        Choices = [new LoggedChoice(0, stored ? $"answer {id}" : null, "stop")],
    };

    static FeedbackRecord Rating(string id, int rating, string? correction = null, int minutes = 0) => new()
    {
        CompletionId = id, Project = "acme", Version = "v1", Rating = rating, Correction = correction, Created = Day.AddMinutes(1 + minutes),
    };

    [Fact]
    public async Task Every_feedback_line_is_used_or_excluded_with_its_reason_and_old_days_are_deleted()
    {
        using var root = new TempDir();
        var store = new LocalFolderStore(root.Path);
        await using (var writer = new DailyLogWriter(store, TimeSpan.FromHours(1), "w1"))
        {
            foreach (var c in new[] { Served("up"), Served("fixed"), Served("down"), Served("private", stored: false), Served("legacy", endpoint: ConversationRecord.Completion) })
                writer.Append(ArtifactLayout.Conversations("acme"), c.Created, c);
            foreach (var f in new[]
                     {
                         Rating("up", -1), Rating("up", 1, minutes: 5), Rating("fixed", -1, "the right answer"), Rating("down", -1),
                         Rating("private", 1), Rating("legacy", 1), Rating("gone", 1),
                     })
                writer.Append(ArtifactLayout.Feedback("acme"), f.Created, f);
            // Lines from a week before, to be removed by the retention.
            writer.Append(ArtifactLayout.Feedback("acme"), Day.AddDays(-7), Rating("old", 1));
        }
        await store.WriteAllTextAsync(ArtifactLayout.Feedback("acme").Batch(DateOnly.FromDateTime(Day.UtcDateTime), "w2", 0), "{ not json\n");

        Assert.Equal(1, await FeedbackSource.ApplyRetentionAsync(store, "acme", new FeedbackOptions(RetentionDays: 3), DateOnly.FromDateTime(Day.UtcDateTime)));
        var harvest = await FeedbackSource.CollectAsync(store, "acme", new FeedbackOptions());

        Assert.Equal(new[] { "answer up", "the right answer" }, harvest.Chats.Select(c => c[^1].Content));
        Assert.All(harvest.Chats, c => Assert.Equal(ChatMessage.Assistant, c[^1].Role));
        // The rated-down answer is a case to fix; the corrected one a case scored against its correction.
        Assert.Equal(new[] { ("fixed", "the right answer"), ("down", null) }, harvest.Cases.Select(c => (c.Id, c.Correction)));
        var down = harvest.Cases[1];
        Assert.Equal(("down", "answer down", "question down"), (down.Id, down.RejectedAnswer, down.Messages[0].Content));
        var stats = harvest.Stats;
        Assert.Equal((8, 1, 1, 1), (stats.Records, stats.RatedUp, stats.Corrected, stats.EvaluationCases));
        Assert.Equal(new SortedDictionary<string, long>(StringComparer.Ordinal)
        {
            [FeedbackSource.Superseded] = 1, [FeedbackSource.NotStored] = 1, [FeedbackSource.NotChat] = 1,
            [FeedbackSource.UnknownCompletion] = 1, [FeedbackSource.Unreadable] = 1,
        }, stats.Excluded);
        Assert.True(stats.Balanced);

        var since = await FeedbackSource.CollectAsync(store, "acme", new FeedbackOptions(Since: DateOnly.FromDateTime(Day.UtcDateTime).AddDays(1)));
        Assert.Equal(0, since.Stats.Records);
    }
}
