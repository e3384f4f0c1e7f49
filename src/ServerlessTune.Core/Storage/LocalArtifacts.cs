namespace ServerlessTune.Core.Storage;

/// <summary>
/// Store artifacts as local paths, for code that reads files (TorchSharp, tokenizers). A local folder store's
/// files are used where they are; anything else is downloaded once into a scratch folder this object deletes.
/// </summary>
public sealed class LocalArtifacts(IArtifactStore store) : IDisposable
{
    readonly Lazy<string> _scratch = new(() => Directory.CreateTempSubdirectory("stune-artifacts-").FullName);
    readonly Dictionary<string, string> _fetched = new(StringComparer.Ordinal);

    public Task<string> FolderAsync(string prefix, CancellationToken ct = default) =>
        LocalAsync(prefix.TrimEnd('/'), local => store.DownloadFolderAsync(prefix.TrimEnd('/'), local, ct));

    public Task<string> FileAsync(string path, CancellationToken ct = default) =>
        LocalAsync(path, local => store.DownloadFileAsync(path, local, ct));

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
