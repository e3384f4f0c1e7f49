using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Data;

/// <summary>A file found under a local input folder, by its path relative to the folder's parent; refused when it is an unsafe link.</summary>
public sealed record LocalEntry(string FullPath, string Relative, Rejection? Refused);

/// <summary>
/// Maps local files and folders (the CLI's arguments) onto stores: a file is read from a store rooted at its
/// folder and named by its file name; a folder from a store rooted at its parent, so its files are named
/// "folder/sub/file.csv" in rejects and stats. Files under <c>excludeFolder</c> (the output) are skipped, and so are
/// hidden files and folders and a dataset folder's eval/ (suites and dialogues are never trained on, as in the pipeline). Symbolic links are judged, never blindly followed: a link whose final target is inside
/// the input folder is read; a link that leaves it, dangles or loops is refused with a reject line naming it (and is
/// never opened); a link to a folder is not descended (a folder inside is read as itself, one outside is refused).
/// </summary>
public static class LocalInputs
{
    public static Task<IReadOnlyList<PrepareInput>> ResolveAsync(IEnumerable<string> paths, string? excludeFolder, CancellationToken ct = default)
    {
        var stores = new Dictionary<string, LocalFolderStore>(StringComparer.Ordinal);
        LocalFolderStore StoreAt(string root) =>
            stores.TryGetValue(root, out var store) ? store : stores[root] = new LocalFolderStore(root);
        string? exclude = excludeFolder is null ? null : Path.GetFullPath(excludeFolder).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        var inputs = new List<PrepareInput>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string given in paths)
        {
            ct.ThrowIfCancellationRequested();
            string full = Path.GetFullPath(given).TrimEnd(Path.DirectorySeparatorChar);
            string parent = Path.GetDirectoryName(full) ?? full;
            var file = new FileInfo(full);
            if (file.Exists || (file.LinkTarget is not null && !Directory.Exists(full)))
            {
                if (seen.Add(full)) inputs.Add(Input(StoreAt(parent), new LocalEntry(full, file.Name, Judge(file, parent, out _))));
                continue;
            }
            if (!Directory.Exists(full)) throw new UserInputException($"{given}: no such file or folder");
            var store = StoreAt(parent);
            int before = inputs.Count;
            string evaluation = Path.Combine(full, PrepareRequest.EvaluationFolder);
            foreach (var entry in Walk(full))
            {
                if (exclude is not null && entry.FullPath.StartsWith(exclude, StringComparison.Ordinal)) continue;
                if (entry.FullPath.StartsWith(evaluation, StringComparison.Ordinal)) continue;
                if (PrepareRequest.IsDataFile(entry.Relative) && seen.Add(entry.FullPath)) inputs.Add(Input(store, entry));
            }
            if (inputs.Count == before) throw new UserInputException($"{given}: the folder has no data files");
        }
        return Task.FromResult<IReadOnlyList<PrepareInput>>(inputs);
    }

    static PrepareInput Input(LocalFolderStore store, LocalEntry entry) => new(store, entry.Relative, entry.Refused);

    /// <summary>
    /// Every file under <paramref name="folder"/> in ordinal order of its path, named relative to the folder's parent
    /// ("folder/sub/a.csv"), hidden files and folders left out, links judged as the class summary says.
    /// </summary>
    public static IReadOnlyList<LocalEntry> Walk(string folder)
    {
        string root = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar);
        string parent = Path.GetDirectoryName(root) ?? root;
        var entries = new List<LocalEntry>();
        var pending = new Stack<DirectoryInfo>([new DirectoryInfo(root)]);
        while (pending.Count > 0)
        {
            foreach (var item in pending.Pop().EnumerateFileSystemInfos())
            {
                if (item.Name.StartsWith('.')) continue;
                string relative = Path.GetRelativePath(parent, item.FullName).Replace(Path.DirectorySeparatorChar, '/');
                var refused = Judge(item, root, out bool linkedFolder);
                if (refused is not null) entries.Add(new LocalEntry(item.FullName, relative, refused));
                else if (item is DirectoryInfo directory && directory.LinkTarget is null) pending.Push(directory);
                else if (!linkedFolder && item is FileInfo) entries.Add(new LocalEntry(item.FullName, relative, null));
            }
        }
        entries.Sort((a, b) => string.CompareOrdinal(a.Relative, b.Relative));
        return entries;
    }

    /// <summary>Why the file at <paramref name="path"/> may not be read as an input under <paramref name="root"/>; null when it may.</summary>
    public static Rejection? Refusal(string path, string root) =>
        Judge(Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path), Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar), out _);

    /// <summary>Null for a regular file or folder, or a link that stays inside <paramref name="root"/>; else why it is refused.</summary>
    static Rejection? Judge(FileSystemInfo item, string root, out bool linkedFolder)
    {
        linkedFolder = false;
        if (item.LinkTarget is null) return null;
        FileSystemInfo? target;
        try { target = item.ResolveLinkTarget(returnFinalTarget: true); }
        catch (IOException) { return Refuse($"a symbolic link loop ({item.LinkTarget} leads back to a link): not followed"); }
        if (target is null || !target.Exists) return Refuse($"a dangling symbolic link (to {item.LinkTarget}, which does not exist): not followed");
        if (!Inside(target.FullName, root)) return Refuse($"a symbolic link to {target.FullName}, outside the input folder {root}: not followed");
        linkedFolder = target is DirectoryInfo;
        return null;
    }

    static Rejection Refuse(string message) => new(RejectReason.UnsafeLink, message);

    /// <summary>The folder itself or below it, as given or as its own link resolves (an input folder may be reached through a link).</summary>
    static bool Inside(string path, string root)
    {
        string full = Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar);
        static bool Under(string full, string folder) => full == folder || full.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal);
        if (Under(full, root)) return true;
        var resolved = new DirectoryInfo(root).ResolveLinkTarget(returnFinalTarget: true);
        return resolved is not null && Under(full, Path.GetFullPath(resolved.FullName).TrimEnd(Path.DirectorySeparatorChar));
    }
}
