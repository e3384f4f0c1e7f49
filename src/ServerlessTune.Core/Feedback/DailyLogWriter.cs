using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Feedback;

/// <summary>
/// Appends records to daily logs (<see cref="DailyLogPaths"/>) in batches: what arrived since the last flush becomes one
/// new artifact per log and day, {writer}-{sequence}.jsonl, written atomically through the store (a block blob
/// committed in one Put Block List, or a renamed file). A writer owns its name, so concurrent writers never rewrite each
/// other's files and no file is ever written twice. Records wait at most <c>flushInterval</c>; disposing flushes the rest.
/// </summary>
public sealed class DailyLogWriter : IAsyncDisposable
{
    readonly IArtifactStore store;
    readonly Action<Exception> onError;
    readonly object gate = new();
    readonly SemaphoreSlim flushing = new(1, 1);
    readonly CancellationTokenSource stopping = new();
    readonly Task loop;
    Dictionary<(DailyLogPaths Log, DateOnly Day), StringBuilder> pending = [];
    long sequence;

    /// <param name="writer">This writer's name in the batch file names; null makes up a unique one.</param>
    public DailyLogWriter(IArtifactStore store, TimeSpan flushInterval, string? writer = null, Action<Exception>? onError = null)
    {
        this.store = store;
        this.onError = onError ?? (_ => { });
        Writer = ArtifactPath.ValidateName(writer ?? NewWriterName(), "log writer");
        loop = Task.Run(() => FlushPeriodicallyAsync(flushInterval, stopping.Token));
    }

    /// <summary>A time-ordered unique name: the start time, then random hex (two servers never pick the same).</summary>
    public static string NewWriterName() =>
        $"{DateTime.UtcNow:yyyyMMddTHHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}";

    public string Writer { get; }

    public void Append<T>(DailyLogPaths log, DateTimeOffset at, T record)
    {
        var line = JsonSerializer.Serialize(record, LogJson.Options);
        var key = (log, DateOnly.FromDateTime(at.UtcDateTime));
        lock (gate)
        {
            if (!pending.TryGetValue(key, out var lines)) pending[key] = lines = new StringBuilder();
            lines.Append(line).Append('\n');
        }
    }

    /// <summary>Writes what is pending; a batch that fails to write goes back to the front and the error is thrown.</summary>
    public async Task FlushAsync(CancellationToken ct = default)
    {
        await flushing.WaitAsync(ct);
        try
        {
            Dictionary<(DailyLogPaths Log, DateOnly Day), StringBuilder> batch;
            lock (gate)
            {
                if (pending.Count == 0) return;
                batch = pending;
                pending = [];
            }
            foreach (var ((log, day), lines) in batch.OrderBy(b => b.Key.Log.Folder, StringComparer.Ordinal).ThenBy(b => b.Key.Day))
            {
                try
                {
                    await store.WriteAllTextAsync(log.Batch(day, Writer, sequence), lines.ToString(), ct);
                    sequence++;
                    batch.Remove((log, day));
                }
                catch
                {
                    Requeue(batch);
                    throw;
                }
            }
        }
        finally
        {
            flushing.Release();
        }
    }

    void Requeue(Dictionary<(DailyLogPaths Log, DateOnly Day), StringBuilder> unwritten)
    {
        lock (gate)
        {
            foreach (var (key, lines) in unwritten)
            {
                if (pending.TryGetValue(key, out var later)) lines.Append(later);
                pending[key] = lines;
            }
        }
    }

    async Task FlushPeriodicallyAsync(TimeSpan interval, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, ct);
                await FlushAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                onError(ex);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        stopping.Cancel();
        await loop;
        await FlushAsync();
        stopping.Dispose();
        flushing.Dispose();
    }
}
