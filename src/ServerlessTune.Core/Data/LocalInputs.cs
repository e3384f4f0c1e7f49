using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Data;

/// <summary>
/// Maps local files and folders (the CLI's arguments) onto stores: a file is read from a store rooted at its
/// folder and named by its file name; a folder from a store rooted at its parent, so its files are named
/// "folder/sub/file.csv" in rejects and stats. Files under <c>excludeFolder</c> (the output) are skipped.
/// </summary>
public static class LocalInputs
{
    public static async Task<IReadOnlyList<PrepareInput>> ResolveAsync(IEnumerable<string> paths, string? excludeFolder, CancellationToken ct = default)
    {
        var stores = new Dictionary<string, LocalFolderStore>(StringComparer.Ordinal);
        LocalFolderStore StoreAt(string root) =>
            stores.TryGetValue(root, out var store) ? store : stores[root] = new LocalFolderStore(root);
        string? exclude = excludeFolder is null ? null : Path.GetFullPath(excludeFolder).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        var inputs = new List<PrepareInput>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string given in paths)
        {
            string full = Path.GetFullPath(given).TrimEnd(Path.DirectorySeparatorChar);
            if (File.Exists(full))
            {
                if (seen.Add(full)) inputs.Add(new PrepareInput(StoreAt(Path.GetDirectoryName(full)!), Path.GetFileName(full)));
                continue;
            }
            if (!Directory.Exists(full)) throw new UserInputException($"{given}: no such file or folder");
            string root = Path.GetDirectoryName(full) ?? full;
            string prefix = root == full ? "" : Path.GetFileName(full) + "/";
            var store = StoreAt(root);
            int before = inputs.Count;
            await foreach (var item in store.ListAsync(prefix, ct))
            {
                string file = Path.Combine(root, item.Path);
                if (exclude is not null && file.StartsWith(exclude, StringComparison.Ordinal)) continue;
                if (PrepareRequest.IsDataFile(item.Path) && seen.Add(file)) inputs.Add(new PrepareInput(store, item.Path));
            }
            if (inputs.Count == before) throw new UserInputException($"{given}: the folder has no data files");
        }
        return inputs;
    }
}
