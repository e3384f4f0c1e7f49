using System.Security.Cryptography;
using System.Text;

namespace ServerlessTune.Core.Storage;

/// <summary>The embedded default store: artifacts are files below a root folder.</summary>
public sealed class LocalFolderStore : IArtifactStore
{
    /// <summary>Lock files of conditional writes, outside every artifact path the store lists.</summary>
    const string LocksFolder = ".locks";
    static readonly TimeSpan LockWait = TimeSpan.FromSeconds(30);
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
            .Where(p => !p.StartsWith(LocksFolder + "/", StringComparison.Ordinal))
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

    public async Task<VersionedText?> ReadVersionedAsync(string path, CancellationToken cancellationToken = default)
    {
        string full = FullPath(path);
        if (!File.Exists(full)) return null;
        byte[] bytes = await File.ReadAllBytesAsync(full, cancellationToken);
        return new VersionedText(Encoding.UTF8.GetString(bytes), Version(bytes));
    }

    /// <summary>
    /// Holds an exclusive lock on a lock file of its own while it compares and writes, so writers in other processes
    /// (which lock the same file) wait; the write itself is atomic, so readers, who take no lock, never see a torn file.
    /// </summary>
    public async Task<bool> TryReplaceAsync(string path, string text, string? expectedVersion, CancellationToken cancellationToken = default)
    {
        string full = FullPath(path);
        await using var held = await LockAsync(path, cancellationToken);
        string? current = File.Exists(full) ? Version(await File.ReadAllBytesAsync(full, cancellationToken)) : null;
        if (current != expectedVersion) return false;
        await AtomicFile.WriteAsync(full, (stream, ct) => stream.WriteAsync(Encoding.UTF8.GetBytes(text), ct).AsTask(), cancellationToken);
        return true;
    }

    static string Version(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));

    async Task<FileStream> LockAsync(string path, CancellationToken ct)
    {
        string folder = Directory.CreateDirectory(Path.Combine(_root, LocksFolder)).FullName;
        string file = Path.Combine(folder, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(path)))[..32] + ".lock");
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                // FileShare.None is an exclusive advisory lock (flock) on Unix: one holder across processes.
                return new FileStream(file, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (waited.Elapsed < LockWait)
            {
                await Task.Delay(5, ct);
            }
        }
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
