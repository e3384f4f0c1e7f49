using System.Text.Json;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Workflow.Api;

/// <param name="Fingerprint">What the run was started on (dataset and options), so a rerun of the same command can find it; may be empty.</param>
/// <param name="Finished">The run ended; the project is free.</param>
public sealed record ActiveRun(string RunId, string Fingerprint, DateTimeOffset SinceUtc, bool Finished = false);

/// <summary>
/// One run at a time per project: projects/{project}/active-run.json names the run that holds the project. A run
/// claims it by compare-and-swap, so of two starts racing (pipeline.json and _ready uploaded together) exactly one
/// wins; a claim whose run has ended, or is no longer going (a crashed process), can be taken over.
/// </summary>
public sealed class ActiveRuns(IArtifactStore store)
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<ActiveRun?> GetAsync(string project, CancellationToken ct = default) =>
        Parse((await store.ReadVersionedAsync(ArtifactLayout.ActiveRun(project), ct))?.Text);

    /// <summary>
    /// Claims the project for <paramref name="claim"/>'s run. Returns null when claimed (or already held by the same
    /// run), else the run that holds it and is still going by <paramref name="isGoing"/>.
    /// </summary>
    public async Task<ActiveRun?> TryClaimAsync(string project, ActiveRun claim, Func<ActiveRun, Task<bool>> isGoing, CancellationToken ct = default)
    {
        string path = ArtifactLayout.ActiveRun(project);
        while (true)
        {
            var read = await store.ReadVersionedAsync(path, ct);
            var holder = Parse(read?.Text);
            if (holder is { Finished: false } && holder.RunId != claim.RunId && await isGoing(holder)) return holder;
            if (await store.TryReplaceAsync(path, JsonSerializer.Serialize(claim, Json), read?.Version, ct)) return null;
        }
    }

    /// <summary>Marks the project free, if <paramref name="runId"/> still holds it.</summary>
    public async Task ReleaseAsync(string project, string runId, CancellationToken ct = default)
    {
        string path = ArtifactLayout.ActiveRun(project);
        while (true)
        {
            var read = await store.ReadVersionedAsync(path, ct);
            var holder = Parse(read?.Text);
            if (holder is null || holder.RunId != runId || holder.Finished) return;
            if (await store.TryReplaceAsync(path, JsonSerializer.Serialize(holder with { Finished = true }, Json), read!.Version, ct)) return;
        }
    }

    static ActiveRun? Parse(string? json) => json is null ? null : JsonSerializer.Deserialize<ActiveRun>(json, Json);
}
