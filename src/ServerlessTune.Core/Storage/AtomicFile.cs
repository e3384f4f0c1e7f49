namespace ServerlessTune.Core.Storage;

/// <summary>
/// The one way a file or folder on disk is written: to a temporary name beside the target, flushed to disk,
/// then renamed over it. A reader sees the old or the complete new content, never a torn one, and a crash
/// leaves only a temporary name that readers skip (<see cref="IsTemporary"/>).
/// </summary>
public static class AtomicFile
{
    const string TemporarySuffix = ".tmp";

    public static void Write(string path, byte[] bytes) => Write(path, stream => stream.Write(bytes));

    public static void Write(string path, Action<Stream> write)
    {
        string temp = TemporaryName(path);
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                write(file);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    public static async Task WriteAsync(string path, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken = default)
    {
        string temp = TemporaryName(path);
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None,
                             bufferSize: 1 << 16, FileOptions.Asynchronous))
            {
                await write(file, cancellationToken);
                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>
    /// Builds a folder in a hidden temporary sibling and renames it into place. A folder rename cannot replace
    /// a non-empty folder, so an existing one is first moved aside and deleted after; <paramref name="folder"/>
    /// is never half-written. Hidden siblings a crash left behind start with '.'.
    /// </summary>
    public static void WriteFolder(string folder, Action<string> fill)
    {
        string parent = Path.GetDirectoryName(Path.GetFullPath(folder))!;
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(folder));
        string temp = Path.Combine(parent, $".{name}.{Guid.NewGuid():N}{TemporarySuffix}");
        Directory.CreateDirectory(temp);
        try
        {
            fill(temp);
            if (Directory.Exists(folder))
            {
                string aside = Path.Combine(parent, $".{name}.{Guid.NewGuid():N}.old");
                Directory.Move(folder, aside);
                Directory.Move(temp, folder);
                Directory.Delete(aside, recursive: true);
            }
            else
            {
                Directory.Move(temp, folder);
            }
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    /// <summary>Whether a file name is a write in progress (or one a crash interrupted).</summary>
    public static bool IsTemporary(string path) => path.EndsWith(TemporarySuffix, StringComparison.Ordinal);

    /// <summary>Unique per writer, so two concurrent writers of one file never share a half-written temporary.</summary>
    static string TemporaryName(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        return $"{path}.{Guid.NewGuid():N}{TemporarySuffix}";
    }
}
