using System.Text.Json;

namespace ServerlessTune.Core.Tokenization;

/// <summary>Reads a JSON array of strings (the batch input of `stune tokenize --json-file`).</summary>
public static class StringListFile
{
    public static IReadOnlyList<string> Read(string path)
    {
        using var document = JsonFiles.Parse(path);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Array)
            throw new UserInputException($"{path}: expected a JSON array of strings, found {root.ValueKind.ToString().ToLowerInvariant()}");
        var strings = new List<string>(root.GetArrayLength());
        foreach (var item in root.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
                throw new UserInputException($"{path}: item {strings.Count} is {item.ValueKind.ToString().ToLowerInvariant()}, not a string");
            strings.Add(item.GetString()!);
        }
        return strings;
    }
}
