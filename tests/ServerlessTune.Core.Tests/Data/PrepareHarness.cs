using System.Runtime.CompilerServices;
using System.Text.Json;
using ServerlessTune.Core.Data;
using ServerlessTune.Core.Data.Output;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Tests.Data;

/// <summary>One prepare run's outputs, read back.</summary>
public sealed record PrepareOutcome(PrepareStats Stats, string Root, List<JsonElement> Train, List<JsonElement> Validation, List<JsonElement> Rejects)
{
    public IEnumerable<JsonElement> Kept => Train.Concat(Validation);

    public JsonElement Reject(string source, long line) =>
        Rejects.Single(r => r.GetProperty("source").GetString() == source && r.GetProperty("line").GetInt64() == line);

    public string ReasonAt(string source, long line) => Reject(source, line).GetProperty("reason").GetString()!;

    /// <summary>All message contents of kept records, for "is this text in the output" checks.</summary>
    public List<string> KeptContents() => Kept.SelectMany(r => r.GetProperty("messages").EnumerateArray())
        .Select(m => m.GetProperty("content").GetString()!).ToList();
}

/// <summary>Runs the real service against a temporary local store holding fixture or generated files.</summary>
public sealed class PrepareHarness : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("stune-prepare-").FullName;
    public LocalFolderStore Store { get; }

    public PrepareHarness() => Store = new LocalFolderStore(Root);

    public void Dispose() => Directory.Delete(Root, recursive: true);

    public static string FixturePath(string name, [CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, "..", "Fixtures", "data", name);

    /// <summary>Copies fixtures into datasets/acme/ and returns their store paths.</summary>
    public string[] AddFixtures(params string[] names) => names.Select(name =>
    {
        string path = "datasets/acme/" + name;
        File.Copy(FixturePath(name), Path.Combine(Root, path.Replace('/', Path.DirectorySeparatorChar)).EnsureFolder(), overwrite: true);
        return path;
    }).ToArray();

    public string AddBytes(string name, byte[] bytes)
    {
        string path = "datasets/acme/" + name;
        File.WriteAllBytes(Path.Combine(Root, path).EnsureFolder(), bytes);
        return path;
    }

    /// <summary>A Hugging Face style Parquet file: one row per conversation, a messages column of role/content structs.</summary>
    public static async Task<byte[]> MessagesParquetAsync(params (string Role, string Content)[][] conversations)
    {
        var rows = conversations.Select(c => (IDictionary<string, object?>)new Dictionary<string, object?>
        {
            ["messages"] = c.Select(m => new Dictionary<string, object> { ["role"] = m.Role, ["content"] = m.Content }).ToList(),
        }).ToList();
        var schema = new Parquet.Schema.ParquetSchema(new Parquet.Schema.ListField("messages", new Parquet.Schema.StructField("element",
            new Parquet.Schema.DataField<string>("role"), new Parquet.Schema.DataField<string>("content"))));
        using var file = new MemoryStream();
        await Parquet.Serialization.ParquetSerializer.SerializeUntypedAsync(rows, schema, file);
        return file.ToArray();
    }

    public string AddText(string name, string text) => AddBytes(name, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>A symbolic link at datasets/acme/{name} to <paramref name="target"/> (which need not exist).</summary>
    public string AddLink(string name, string target)
    {
        string path = "datasets/acme/" + name;
        File.CreateSymbolicLink(Path.Combine(Root, path).EnsureFolder(), target);
        return path;
    }

    /// <summary>Runs the real service; each input is judged as the CLI judges local files (links out of the root are refused).</summary>
    public async Task<PrepareOutcome> RunAsync(PrepareOptions? options = null, string runId = "run1", params string[] paths)
    {
        var inputs = paths.Select(p => new PrepareInput(Store, p, LocalInputs.Refusal(Path.Combine(Root, p), Root))).ToList();
        string prefix = $"prepared/{runId}/";
        var stats = await DataPreparationService.RunAsync(new PrepareRequest(inputs, Store, prefix, options ?? new PrepareOptions()));
        return new PrepareOutcome(stats, Path.Combine(Root, "prepared", runId), await Lines(prefix + "train.jsonl"),
            await Lines(prefix + "validation.jsonl"), await Lines(prefix + "rejects.jsonl"));
    }

    async Task<List<JsonElement>> Lines(string path)
    {
        var result = new List<JsonElement>();
        await foreach (var line in Store.ReadLinesAsync(path))
            result.Add(JsonDocument.Parse(line).RootElement.Clone());
        return result;
    }
}

static class PathExtensions
{
    public static string EnsureFolder(this string file)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        return file;
    }
}
