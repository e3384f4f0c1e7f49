namespace ServerlessTune.Core.Storage;

/// <summary>
/// Where every pipeline artifact lives: a local folder or a blob container. Paths are relative,
/// '/'-separated and validated by <see cref="ArtifactPath"/>. Writes are atomic: a reader sees either
/// the previous content or the complete new content, never a partial file.
/// </summary>
public interface IArtifactStore
{
    /// <summary>A human-readable location for messages, e.g. a folder path or container URL (no secrets).</summary>
    string Location { get; }

    Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Opens an artifact for reading; throws <see cref="ArtifactNotFoundException"/> if absent.</summary>
    Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>Runs <paramref name="write"/> against a temporary target and commits it only when it completes.</summary>
    Task WriteAsync(string path, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken = default);

    /// <summary>Artifacts whose path starts with <paramref name="prefix"/> (a folder prefix ends with '/'), in ordinal path order.</summary>
    IAsyncEnumerable<ArtifactInfo> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Deletes an artifact; returns false if it did not exist.</summary>
    Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>A small artifact's text with the version a later <see cref="TryReplaceAsync"/> compares against; null when absent.</summary>
    Task<VersionedText?> ReadVersionedAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>
    /// Compare-and-swap: writes <paramref name="text"/> only if the artifact is still at <paramref name="expectedVersion"/>
    /// (null: only if it does not exist). False when another writer came first; the caller reads again and retries.
    /// </summary>
    Task<bool> TryReplaceAsync(string path, string text, string? expectedVersion, CancellationToken cancellationToken = default);
}

public sealed record ArtifactInfo(string Path, long Size, DateTimeOffset LastModified);

/// <param name="Version">Opaque: an ETag in blob storage, a content hash in a local folder.</param>
public sealed record VersionedText(string Text, string Version);

public sealed class ArtifactNotFoundException(string path, string location)
    : UserInputException($"{path}: not found in {location}");
