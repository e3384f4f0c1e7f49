using ServerlessTune.Core.Feedback;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Workflow.Tests.Storage;

/// <summary>Four servers appending to one project's conversation log at once, over the folder store and Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class DailyLogWriterTests(AzuriteFixture azurite)
{
    const int Writers = 4, ThreadsPerWriter = 3, RecordsPerThread = 40;

    sealed record Line(string Writer, int Thread, int N);

    [Fact]
    public async Task Four_concurrent_writers_lose_no_line_over_the_folder_store()
    {
        var root = Directory.CreateTempSubdirectory("stune-log-").FullName;
        try
        {
            await AppendConcurrentlyAsync(new LocalFolderStore(root));
            Assert.Empty(Directory.EnumerateFiles(root, "*.tmp", SearchOption.AllDirectories));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Four_concurrent_writers_lose_no_line_over_blob_storage() =>
        await AppendConcurrentlyAsync(await azurite.NewStoreAsync());

    static async Task AppendConcurrentlyAsync(IArtifactStore store)
    {
        var log = ArtifactLayout.Conversations("acme");
        var day = new DateTimeOffset(2026, 11, 24, 23, 59, 59, TimeSpan.Zero);
        // Threads flush their writer while the others append: batches are written during the appends, not only at the end.
        var writers = Enumerable.Range(0, Writers).Select(w => new DailyLogWriter(store, TimeSpan.FromMilliseconds(5), $"server{w}")).ToArray();
        await Task.WhenAll(writers.SelectMany(writer => Enumerable.Range(0, ThreadsPerWriter).Select(thread => Task.Run(async () =>
        {
            for (int n = 0; n < RecordsPerThread; n++)
            {
                // Records on both sides of midnight go to two day folders.
                writer.Append(log, day.AddSeconds(n % 2), new Line(writer.Writer, thread, n));
                if (n % 10 == 9) await writer.FlushAsync();
            }
        }))));
        foreach (var writer in writers) await writer.DisposeAsync();

        var files = new List<string>();
        await foreach (var file in store.ListAsync(log.Prefix)) files.Add(file.Path);
        Assert.Contains(files, f => f.StartsWith(log.Day(new DateOnly(2026, 11, 25)), StringComparison.Ordinal));
        // Every batch file belongs to one writer, and every writer wrote at least one per day.
        Assert.All(files, f => Assert.Matches(@"/server[0-3]-\d{8}\.jsonl$", f));
        Assert.True(files.Count >= Writers * 2, $"{files.Count} batch files");

        var lines = new List<LogLine<Line>>();
        await foreach (var line in DailyLogReader.ReadAsync<Line>(store, log)) lines.Add(line);
        Assert.All(lines, l => Assert.Null(l.Problem));
        Assert.Equal(Writers * ThreadsPerWriter * RecordsPerThread, lines.Count);
        Assert.Equal(lines.Count, lines.Select(l => l.Record).Distinct().Count());
        // Each thread's records appear in the order it appended them.
        foreach (var thread in lines.GroupBy(l => (l.Record!.Writer, l.Record.Thread)))
        {
            var sameDay = thread.Where(l => l.Record!.N % 2 == 0).Select(l => l.Record!.N).ToArray();
            Assert.Equal(sameDay.Order(), sameDay);
        }

        Assert.Equal(files.Count(f => log.DayOf(f) == new DateOnly(2026, 11, 24)),
            await DailyLogReader.DeleteBeforeAsync(store, log, new DateOnly(2026, 11, 25)));
        Assert.All(await DailyLogReader.RecordsAsync<Line>(store, log), l => Assert.Equal(1, l.N % 2));
    }
}
