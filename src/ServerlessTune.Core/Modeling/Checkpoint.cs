using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Modeling;

/// <summary>
/// Hugging Face checkpoint folders: config.json plus model.safetensors, or shards listed in
/// model.safetensors.index.json. Loading is a strict name and shape match against the architecture
/// built from config.json; every problem names the file and the tensor or key.
/// </summary>
public static class Checkpoint
{
    public const string WeightsFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";
    public const string GenerationConfigFile = "generation_config.json";

    /// <summary>Transformers' default max_shard_size ("5GB").</summary>
    public const long DefaultMaxShardBytes = 5_000_000_000;

    /// <summary>Loads a checkpoint; weights stored as fp32, fp16 or bf16 are converted to <paramref name="dtype"/> (default float32).</summary>
    public static CausalLM Load(string dir, ScalarType? dtype = null)
    {
        if (!Directory.Exists(dir))
            throw new UserInputException($"{dir}: model folder not found");
        var config = ModelConfig.Load(dir);
        var shards = WeightShards(dir);
        var model = CausalLMFactory.CreateUninitialized(config, dtype ?? ScalarType.Float32);
        try
        {
            LoadWeights(model, dir, shards);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes config.json, the weights (one file, or shards of at most <paramref name="maxShardBytes"/> plus
    /// the index) and generation_config.json when the folder has none, exactly as save_pretrained lays them out.
    /// </summary>
    public static void Save(CausalLM model, string dir, long maxShardBytes = DefaultMaxShardBytes)
    {
        if (model.Projections().Any(p => p.Layer.HasLora))
            throw new InvalidOperationException("merge the LoRA adapters (MergeLora) before saving a full checkpoint");
        Directory.CreateDirectory(dir);
        var tensors = model.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, kv.Value)).ToList();

        WriteJson(Path.Combine(dir, "config.json"), model.Config.ToJson(TorchDtypeName(model.DType)));
        RemoveStaleWeights(dir);
        var shards = Shard(tensors, maxShardBytes);
        if (shards.Count == 1)
        {
            SafetensorsWriter.Write(Path.Combine(dir, WeightsFile), shards[0]);
        }
        else
        {
            var weightMap = new JsonObject();
            for (var i = 0; i < shards.Count; i++)
            {
                var file = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
                SafetensorsWriter.Write(Path.Combine(dir, file), shards[i]);
                foreach (var (name, _) in shards[i]) weightMap[name] = file;
            }
            WriteJson(Path.Combine(dir, IndexFile), new JsonObject
            {
                ["metadata"] = new JsonObject { ["total_size"] = tensors.Sum(t => t.Item2.numel() * t.Item2.ElementSize) },
                ["weight_map"] = weightMap,
            });
        }
        var generationConfig = Path.Combine(dir, GenerationConfigFile);
        if (!File.Exists(generationConfig))
            WriteJson(generationConfig, GenerationConfig(model.Config));
    }

    public static string TorchDtypeName(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.Float16 => "float16",
        ScalarType.BFloat16 => "bfloat16",
        _ => throw new ArgumentException($"dtype {dtype} is not a checkpoint dtype"),
    };

    static JsonObject GenerationConfig(ModelConfig config)
    {
        var json = new JsonObject { ["_from_model_config"] = true };
        if (config.BosTokenId is int bos) json["bos_token_id"] = bos;
        if (config.EosTokenIds.Length == 1) json["eos_token_id"] = config.EosTokenIds[0];
        else if (config.EosTokenIds.Length > 1) json["eos_token_id"] = new JsonArray(config.EosTokenIds.Select(id => (JsonNode)id).ToArray());
        if (config.PadTokenId is int pad) json["pad_token_id"] = pad;
        return json;
    }

    static List<List<(string, Tensor)>> Shard(List<(string Name, Tensor Tensor)> tensors, long maxShardBytes)
    {
        var shards = new List<List<(string, Tensor)>> { new() };
        long size = 0;
        foreach (var (name, tensor) in tensors)
        {
            var bytes = tensor.numel() * tensor.ElementSize;
            if (size > 0 && size + bytes > maxShardBytes)
            {
                shards.Add([]);
                size = 0;
            }
            shards[^1].Add((name, tensor));
            size += bytes;
        }
        return shards;
    }

    // A leftover index or shard from an earlier save would shadow or mix with the new weights.
    static void RemoveStaleWeights(string dir)
    {
        foreach (var file in Directory.EnumerateFiles(dir, "model-*-of-*.safetensors"))
            File.Delete(file);
        foreach (var file in new[] { IndexFile, WeightsFile }.Select(f => Path.Combine(dir, f)))
            File.Delete(file);
    }

    static void WriteJson(string path, JsonNode json) =>
        AtomicFile.Write(path, Encoding.UTF8.GetBytes(json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n"));

    /// <summary>Each weight file with the tensor names the index promises it holds (null for a single file).</summary>
    static List<(string Path, HashSet<string>? Names)> WeightShards(string dir)
    {
        var index = Path.Combine(dir, IndexFile);
        if (File.Exists(index))
            return ReadIndex(dir, index);
        var single = Path.Combine(dir, WeightsFile);
        if (File.Exists(single))
            return [(single, null)];
        throw new UserInputException($"{dir}: no {WeightsFile} or {IndexFile} (only safetensors checkpoints are supported)");
    }

    static List<(string, HashSet<string>?)> ReadIndex(string dir, string index)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(index));
        }
        catch (JsonException ex)
        {
            throw new UserInputException($"{index}: line {ex.LineNumber + 1}: not valid JSON: {ex.Message}", ex);
        }
        if (root?["weight_map"] is not JsonObject weightMap)
            throw new UserInputException($"{index}: key 'weight_map': missing or not an object");
        var byFile = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var (name, value) in weightMap)
        {
            var file = value is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
            if (file is null || file != Path.GetFileName(file) || file is "." or "..")
                throw new UserInputException($"{index}: key 'weight_map.{name}': expected a file name in this folder, got {value?.ToJsonString() ?? "null"}");
            if (!File.Exists(Path.Combine(dir, file)))
                throw new UserInputException($"{index}: key 'weight_map.{name}': file '{file}' not found in {dir}");
            (byFile.TryGetValue(file, out var names) ? names : byFile[file] = new HashSet<string>(StringComparer.Ordinal)).Add(name);
        }
        return byFile.Select(kv => (Path.Combine(dir, kv.Key), (HashSet<string>?)kv.Value)).ToList();
    }

    static void LoadWeights(CausalLM model, string dir, List<(string Path, HashSet<string>? Names)> shards)
    {
        var expected = model.state_dict();
        var loaded = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (path, names) in shards)
        {
            var tensors = ReadSafetensors(path);
            try
            {
                if (names?.FirstOrDefault(n => !tensors.ContainsKey(n)) is string absent)
                    throw new UserInputException($"{path}: tensor '{absent}' is listed in {IndexFile} but not stored in this file");
                foreach (var (stored, tensor) in tensors)
                {
                    var name = ResolveName(model, expected, stored);
                    if (name is null) continue;
                    if (!expected.ContainsKey(name))
                        throw new UserInputException($"{path}: unexpected tensor '{stored}': {model.Config.Architecture} for this config.json has no such weight");
                    CopyInto(expected[name], tensor, path, stored);
                    if (!loaded.Add(name))
                        throw new UserInputException($"{path}: tensor '{stored}' is stored more than once in the checkpoint");
                }
            }
            finally
            {
                foreach (var tensor in tensors.Values) tensor.Dispose();
            }
        }
        var missing = expected.Keys.Where(k => !loaded.Contains(k)).ToList();
        if (missing.Count > 0)
            throw new UserInputException(
                $"{dir}: tensor '{missing[0]}' is missing from the checkpoint{(missing.Count > 1 ? $" ({missing.Count} tensors missing)" : "")}");
    }

    /// <summary>The model's name for a stored tensor, or null when Transformers would ignore it too.</summary>
    static string? ResolveName(CausalLM model, Dictionary<string, Tensor> expected, string stored)
    {
        if (expected.ContainsKey(stored)) return stored;
        if (expected.ContainsKey(model.BaseModelPrefix + stored)) return model.BaseModelPrefix + stored;
        return model.IsIgnoredCheckpointKey(stored) ? null : stored;
    }

    static void CopyInto(Tensor target, Tensor stored, string path, string name)
    {
        if (!target.shape.SequenceEqual(stored.shape))
            throw new UserInputException(
                $"{path}: tensor '{name}' has shape [{string.Join(", ", stored.shape)}] but config.json implies [{string.Join(", ", target.shape)}]");
        if (stored.dtype is not (ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64))
            throw new UserInputException($"{path}: tensor '{name}' is stored as {stored.dtype}; expected F32, F16 or BF16 weights");
        using var noGrad = no_grad();
        target.copy_(stored);
    }

    static Dictionary<string, Tensor> ReadSafetensors(string path)
    {
        try
        {
            return Safetensors.LoadStateDict(path);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new UserInputException($"{path}: not a readable safetensors file: {ex.Message}", ex);
        }
    }
}
