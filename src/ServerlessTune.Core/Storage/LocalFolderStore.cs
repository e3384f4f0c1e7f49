namespace ServerlessTune.Core.Storage;

/// <summary>The embedded default store: artifacts are files below a root folder.</summary>
public sealed class LocalFolderStore : IArtifactStore
{
    readonly string _root;

    public LocalFolderStore(string root)
    {
        _root = Path.GetFullPath(root);
        Directory.CreateDirectory(_root);
    }

    public string Location => _root;

    public Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default) =>
        Task.FromResult(File.Exists(FullPath(path)));

    public Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken = default)
    {
        string full = FullPath(path);
        if (!File.Exists(full)) throw new ArtifactNotFoundException(path, _root);
        return Task.FromResult<Stream>(new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read,
            bufferSize: 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan));
    }

    public Task WriteAsync(string path, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken = default) =>
        AtomicFile.WriteAsync(FullPath(path), write, cancellationToken);

    public async IAsyncEnumerable<ArtifactInfo> ListAsync(string prefix,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (prefix.Length > 0) ArtifactPath.Validate(prefix.TrimEnd('/'));
        // Walk only the folder that can hold matches, not the whole root.
        int slash = prefix.LastIndexOf('/');
        string folder = slash < 0 ? _root : Path.Combine(_root, prefix[..slash]);
        if (!Directory.Exists(folder)) yield break;
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => !AtomicFile.IsTemporary(f))
            .Select(f => Path.GetRelativePath(_root, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(p => p.StartsWith(prefix, StringComparison.Ordinal))
            .OrderBy(p => p, StringComparer.Ordinal);
        foreach (var relative in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var info = new FileInfo(Path.Combine(_root, relative));
            yield return new ArtifactInfo(relative, info.Length, info.LastWriteTimeUtc);
        }
        await Task.CompletedTask;
    }

    public Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default)
    {
        string full = FullPath(path);
        if (!File.Exists(full)) return Task.FromResult(false);
        File.Delete(full);
        return Task.FromResult(true);
    }

    string FullPath(string path)
    {
        ArtifactPath.Validate(path);
        string full = Path.GetFullPath(Path.Combine(_root, path));
        // Validation already refuses "..", this guards against symlinked or platform-specific surprises.
        if (!full.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new UserInputException($"invalid artifact path '{path}': resolves outside the store");
        return full;
    }
}
