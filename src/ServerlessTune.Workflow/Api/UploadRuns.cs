using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Workflow.Api;

/// <summary>
/// An upload of a dataset: its files (all of datasets/{project}/ but the _ready marker, whose only job is to say the
/// upload is complete) by path, size and time written. Both markers of one upload see the same files, however late
/// either event is delivered, so they name the same upload and the same run id; changing any file is a new upload.
/// </summary>
/// <param name="Key">A hash of the listing: the record's name.</param>
/// <param name="RunId">The run this upload starts: named after its newest file and its key.</param>
public sealed record DatasetUpload(string Key, string RunId)
{
    public static async Task<DatasetUpload> ListAsync(IArtifactStore store, DatasetPaths dataset, CancellationToken ct)
    {
        string ready = dataset.File(DatasetPaths.ReadyMarker);
        var listing = new StringBuilder();
        var newest = DateTimeOffset.MinValue;
        await foreach (var file in store.ListAsync(dataset.Prefix, ct))
        {
            if (file.Path == ready) continue;
            listing.Append($"{file.Path}\t{file.Size}\t{file.LastModified.UtcTicks}\n");
            if (file.LastModified > newest) newest = file.LastModified;
        }
        string key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(listing.ToString())))[..32];
        if (newest == DateTimeOffset.MinValue) newest = DateTimeOffset.UtcNow;
        return new DatasetUpload(key, $"{newest.UtcDateTime:yyyyMMdd-HHmmss}-{key[..8]}");
    }
}

/// <param name="Scheduled">The run was scheduled; false while its start is under way (or after a start that died before it).</param>
public sealed record UploadRun(string RunId, DateTimeOffset SinceUtc, bool Scheduled = false);

/// <summary>
/// Which upload started which run, kept in the store (projects/{project}/uploads/{key}.json) so it outlives the
/// task hub's history and a host restart: the first marker event of an upload claims its record by compare-and-swap;
/// every later event of that upload (the other marker, a redelivery) finds it and starts nothing.
/// </summary>
public sealed class UploadRuns(IArtifactStore store)
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Claims the upload for its run. Null when claimed; else the upload's record, whose run was started, or is being
    /// started, by another event (by <paramref name="isStarted"/>; a record it calls not started is taken over).
    /// </summary>
    public async Task<UploadRun?> TryClaimAsync(string project, DatasetUpload upload, Func<UploadRun, Task<bool>> isStarted, CancellationToken ct)
    {
        string path = ArtifactLayout.Upload(project, upload.Key);
        string claim = JsonSerializer.Serialize(new UploadRun(upload.RunId, DateTimeOffset.UtcNow), Json);
        while (true)
        {
            var read = await store.ReadVersionedAsync(path, ct);
            if (read is not null && JsonSerializer.Deserialize<UploadRun>(read.Text, Json) is { } earlier && await isStarted(earlier)) return earlier;
            if (await store.TryReplaceAsync(path, claim, read?.Version, ct)) return null;
        }
    }

    /// <summary>The run is scheduled: from now on the record alone says the upload started it.</summary>
    public Task ScheduledAsync(string project, DatasetUpload upload, CancellationToken ct) =>
        store.WriteAllTextAsync(ArtifactLayout.Upload(project, upload.Key),
            JsonSerializer.Serialize(new UploadRun(upload.RunId, DateTimeOffset.UtcNow, Scheduled: true), Json), ct);

    /// <summary>The start was refused (bad input, project busy): the upload started nothing, so a later event of it may try again.</summary>
    public Task ForgetAsync(string project, DatasetUpload upload, CancellationToken ct) =>
        store.DeleteAsync(ArtifactLayout.Upload(project, upload.Key), ct);
}
