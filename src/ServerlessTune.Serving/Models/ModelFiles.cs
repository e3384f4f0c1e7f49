using ServerlessTune.Core.Storage;

namespace ServerlessTune.Serving.Models;

/// <summary>
/// A registered version's folders as local paths, for TorchSharp and the tokenizer: a local folder store's files
/// are used in place; a remote store's are downloaded into a scratch folder that lives as long as the version.
/// </summary>
sealed class ModelFiles(IArtifactStore store) : IDisposable
{
    readonly Lazy<string> scratch = new(() => Directory.CreateTempSubdirectory("stune-serve-").FullName);

    public async Task<string> FolderAsync(string prefix, CancellationToken ct)
    {
        prefix = ArtifactPath.Validate(prefix.TrimEnd('/'));
        if (store is LocalFolderStore) return Path.Combine(store.Location, prefix);
        var local = Path.Combine(scratch.Value, prefix);
        if (await store.DownloadFolderAsync(prefix, local, ct) == 0)
            throw new ArtifactNotFoundException(prefix + "/", store.Location);
        return local;
    }

    public void Dispose()
    {
        if (scratch.IsValueCreated && Directory.Exists(scratch.Value)) Directory.Delete(scratch.Value, recursive: true);
    }
}
