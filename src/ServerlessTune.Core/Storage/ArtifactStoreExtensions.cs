using System.Runtime.CompilerServices;
using System.Text;

namespace ServerlessTune.Core.Storage;

/// <summary>Conveniences every store gets from the primitives of <see cref="IArtifactStore"/>.</summary>
public static class ArtifactStoreExtensions
{
    static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    public static async Task<string> ReadAllTextAsync(this IArtifactStore store, string path, CancellationToken ct = default)
    {
        await using var stream = await store.OpenReadAsync(path, ct);
        using var reader = new StreamReader(stream, Utf8NoBom);
        return await reader.ReadToEndAsync(ct);
    }

    public static Task WriteAllTextAsync(this IArtifactStore store, string path, string text, CancellationToken ct = default) =>
        store.WriteAsync(path, async (stream, token) => await stream.WriteAsync(Utf8NoBom.GetBytes(text), token), ct);

    public static Task WriteAllBytesAsync(this IArtifactStore store, string path, byte[] bytes, CancellationToken ct = default) =>
        store.WriteAsync(path, async (stream, token) => await stream.WriteAsync(bytes, token), ct);

    public static async IAsyncEnumerable<string> ReadLinesAsync(this IArtifactStore store, string path,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        await using var stream = await store.OpenReadAsync(path, ct);
        using var reader = new StreamReader(stream, Utf8NoBom);
        while (await reader.ReadLineAsync(ct) is { } line)
            yield return line;
    }

    /// <summary>Copies every artifact under <paramref name="prefix"/> into a local folder (for model folders TorchSharp reads).</summary>
    public static async Task<int> DownloadFolderAsync(this IArtifactStore store, string prefix, string localDirectory, CancellationToken ct = default)
    {
        string folderPrefix = prefix.TrimEnd('/') + "/";
        int count = 0;
        await foreach (var item in store.ListAsync(folderPrefix, ct))
        {
            await store.DownloadFileAsync(item.Path, Path.Combine(localDirectory, item.Path[folderPrefix.Length..]), ct);
            count++;
        }
        return count;
    }

    /// <summary>Copies one artifact to a local file, written atomically (a crash never leaves a torn copy a later step trusts).</summary>
    public static async Task DownloadFileAsync(this IArtifactStore store, string path, string localFile, CancellationToken ct = default)
    {
        await using var source = await store.OpenReadAsync(path, ct);
        await AtomicFile.WriteAsync(localFile, (target, token) => source.CopyToAsync(target, token), ct);
    }

    /// <summary>
    /// Uploads every file below a local folder (or the given <paramref name="files"/> below it) to <paramref name="prefix"/>,
    /// each written atomically.
    /// </summary>
    public static async Task<int> UploadFolderAsync(this IArtifactStore store, string localDirectory, string prefix, CancellationToken ct = default,
        IEnumerable<string>? files = null)
    {
        int count = 0;
        foreach (var file in (files ?? Directory.EnumerateFiles(localDirectory, "*", SearchOption.AllDirectories)).Order(StringComparer.Ordinal))
        {
            string relative = Path.GetRelativePath(localDirectory, file).Replace(Path.DirectorySeparatorChar, '/');
            await store.WriteAsync(ArtifactPath.Combine(prefix, relative), async (stream, token) =>
            {
                await using var source = File.OpenRead(file);
                await source.CopyToAsync(stream, token);
            }, ct);
            count++;
        }
        return count;
    }
}
