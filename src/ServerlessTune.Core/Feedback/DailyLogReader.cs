using System.Runtime.CompilerServices;
using System.Text.Json;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Feedback;

/// <summary>One line of a daily log: its record, or why it could not be read ("path:line: reason").</summary>
public sealed record LogLine<T>(string Path, int Line, T? Record, string? Problem) where T : class
{
    public string Where => $"{Path}:{Line}";
}

/// <summary>The one reader of the conversation and feedback logs, and their retention.</summary>
public static class DailyLogReader
{
    /// <summary>Every line of the days from <paramref name="since"/> on (all days when null), in path order.</summary>
    public static async IAsyncEnumerable<LogLine<T>> ReadAsync<T>(IArtifactStore store, DailyLogPaths log, DateOnly? since = null,
        [EnumeratorCancellation] CancellationToken ct = default) where T : class
    {
        await foreach (var file in store.ListAsync(log.Prefix, ct))
        {
            if (log.DayOf(file.Path) is not { } day || (since is { } from && day < from)) continue;
            int number = 0;
            await foreach (var text in store.ReadLinesAsync(file.Path, ct))
            {
                number++;
                if (text.Length == 0) continue;
                T? record = null;
                string? problem = null;
                try
                {
                    record = JsonSerializer.Deserialize<T>(text, LogJson.Options) ?? throw new JsonException("null record");
                }
                catch (JsonException ex)
                {
                    problem = $"not a {typeof(T).Name}: {ex.Message}";
                }
                yield return new LogLine<T>(file.Path, number, record, problem);
            }
        }
    }

    /// <summary>The records of the days from <paramref name="since"/> on; unreadable lines are skipped.</summary>
    public static async Task<List<T>> RecordsAsync<T>(IArtifactStore store, DailyLogPaths log, DateOnly? since = null,
        CancellationToken ct = default) where T : class
    {
        var records = new List<T>();
        await foreach (var line in ReadAsync<T>(store, log, since, ct))
            if (line.Record is { } record) records.Add(record);
        return records;
    }

    /// <summary>The projects that have a log under <paramref name="root"/> (conversations or feedback).</summary>
    public static async Task<IReadOnlyList<string>> ProjectsAsync(IArtifactStore store, string root, CancellationToken ct = default)
    {
        var projects = new SortedSet<string>(StringComparer.Ordinal);
        await foreach (var file in store.ListAsync(root + "/", ct))
            if (file.Path[(root.Length + 1)..].Split('/') is [var project, _, _]) projects.Add(project);
        return [.. projects];
    }

    /// <summary>Deletes the day folders older than <paramref name="keepFrom"/>; returns how many files went.</summary>
    public static async Task<int> DeleteBeforeAsync(IArtifactStore store, DailyLogPaths log, DateOnly keepFrom, CancellationToken ct = default)
    {
        var old = new List<string>();
        await foreach (var file in store.ListAsync(log.Prefix, ct))
            if (log.DayOf(file.Path) is { } day && day < keepFrom) old.Add(file.Path);
        foreach (var path in old) await store.DeleteAsync(path, ct);
        return old.Count;
    }
}
