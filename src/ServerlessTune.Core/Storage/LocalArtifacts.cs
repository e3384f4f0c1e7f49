namespace ServerlessTune.Core.Storage;

/// <summary>
/// Store artifacts as local paths, for code that reads files (TorchSharp, tokenizers). A local folder store's
/// files are used where they are; anything else is downloaded once into a scratch folder this object deletes.
/// </summary>
public sealed class LocalArtifacts(IArtifactStore store) : IDisposable
{
    readonly Lazy<string> _scratch = new(() => Directory.CreateTempSubdirectory("stune-artifacts-").FullName);
    readonly Dictionary<string, string> _fetched = new(StringComparer.Ordinal);

    /// <summary>A folder of the store on disk; a folder with no artifacts in a remote store is an error, not an empty folder.</summary>
    public Task<string> FolderAsync(string prefix, CancellationToken ct = default)
    {
        prefix = prefix.TrimEnd('/');
        return LocalAsync(prefix, async local =>
        {
            if (await store.DownloadFolderAsync(prefix, local, ct) == 0)
                throw new ArtifactNotFoundException(prefix + "/", store.Location);
        });
    }

    public Task<string> FileAsync(string path, CancellationToken ct = default) =>
        LocalAsync(path, local => store.DownloadFileAsync(path, local, ct));

    /// <summary>The file on disk, or null when the store has no such artifact (an output a step writes only when it has content).</summary>
    public async Task<string?> OptionalFileAsync(string path, CancellationToken ct = default) =>
        await store.ExistsAsync(path, ct) ? await FileAsync(path, ct) : null;

    /// <summary>The artifact's path on disk: in place for a local folder store, else fetched once into the scratch folder.</summary>
    async Task<string> LocalAsync(string path, Func<string, Task> fetch)
    {
        ArtifactPath.Validate(path);
        if (store is LocalFolderStore) return Path.Combine(store.Location, path);
        if (!_fetched.TryGetValue(path, out var local))
        {
            local = Path.Combine(_scratch.Value, path);
            await fetch(local);
            _fetched[path] = local;
        }
        return local;
    }

    public void Dispose()
    {
        if (_scratch.IsValueCreated && Directory.Exists(_scratch.Value)) Directory.Delete(_scratch.Value, recursive: true);
    }
}
