using ServerlessTune.Core.Feedback;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Tests.Feedback;

/// <summary>What feedback.retrain_after counts: conversations rated after the last run read the log, each once.</summary>
public sealed class FeedbackCutoffTests
{
    static readonly DateTimeOffset Day = new(2026, 11, 24, 10, 0, 0, TimeSpan.Zero);

    static FeedbackRecord Rating(string id, int rating, DateTimeOffset at) => new()
    {
        CompletionId = id, Project = "acme", Version = "v1", Rating = rating, Created = at,
    };

    [Fact]
    public async Task Ratings_after_the_cutoff_count_once_per_conversation_by_the_latest_rating()
    {
        using var root = new TempDir();
        var store = new LocalFolderStore(root.Path);
        await using (var writer = new DailyLogWriter(store, TimeSpan.FromHours(1), "w1"))
            foreach (var f in new[]
                     {
                         Rating("old", 1, Day.AddDays(-2)), Rating("before", 1, Day.AddMinutes(-5)),
                         Rating("after", 1, Day.AddMinutes(5)), Rating("after", -1, Day.AddMinutes(6)), // one conversation rated twice
                         Rating("before", -1, Day.AddDays(1)), // rated again after the cutoff: new
                         Rating("next-day", 1, Day.AddDays(1)),
                     })
                writer.Append(ArtifactLayout.Feedback("acme"), f.Created, f);

        Assert.Null(await FeedbackCutoff.ReadAsync(store, "acme"));
        Assert.Equal(4, await FeedbackCutoff.NewRatingsAsync(store, "acme", new FeedbackOptions(), after: null));
        await new FeedbackCutoff("run-1", Day).WriteAsync(store, "acme");
        var cutoff = await FeedbackCutoff.ReadAsync(store, "acme");
        Assert.Equal(new FeedbackCutoff("run-1", Day), cutoff);
        Assert.Equal(3, await FeedbackCutoff.NewRatingsAsync(store, "acme", new FeedbackOptions(), cutoff!.ReadFrom));
        // feedback.since bounds the days read, as it bounds what a run trains on.
        Assert.Equal(2, await FeedbackCutoff.NewRatingsAsync(store, "acme", new FeedbackOptions(Since: DateOnly.FromDateTime(Day.UtcDateTime).AddDays(1)), cutoff.ReadFrom));
    }
}
