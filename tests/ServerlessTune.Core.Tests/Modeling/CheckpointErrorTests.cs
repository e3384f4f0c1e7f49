using System.Text.Json.Nodes;
using ServerlessTune.Core.Modeling;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests.Modeling;

public class CheckpointErrorTests
{
    /// <summary>Saves a tiny llama, then rewrites model.safetensors with <paramref name="edit"/> applied to its tensors.</summary>
    static string SavedWith(ModelTempDir dir, Action<List<(string Name, Tensor Tensor)>> edit)
    {
        using var model = ModelFixtures.TinyModel("llama");
        Checkpoint.Save(model, dir.Path);
        var tensors = model.state_dict().Select(kv => (kv.Key, kv.Value)).ToList();
        edit(tensors);
        var file = Path.Combine(dir.Path, "model.safetensors");
        SafetensorsWriter.Write(file, tensors);
        return file;
    }

    [Fact]
    public void Missing_tensor_is_named()
    {
        using var dir = new ModelTempDir();
        SavedWith(dir, t => t.RemoveAll(x => x.Name == "model.layers.1.mlp.up_proj.weight"));
        var ex = Assert.Throws<UserInputException>(() => Checkpoint.Load(dir.Path));
        Assert.Contains("'model.layers.1.mlp.up_proj.weight' is missing", ex.Message);
        Assert.Contains(dir.Path, ex.Message);
    }

    [Fact]
    public void Misshaped_tensor_is_named_with_both_shapes_and_the_file()
    {
        using var dir = new ModelTempDir();
        var file = SavedWith(dir, t =>
        {
            var i = t.FindIndex(x => x.Name == "model.layers.0.self_attn.k_proj.weight");
            t[i] = (t[i].Name, zeros(32, 32));
        });
        var ex = Assert.Throws<UserInputException>(() => Checkpoint.Load(dir.Path));
        Assert.Equal($"{file}: tensor 'model.layers.0.self_attn.k_proj.weight' has shape [32, 32] but config.json implies [16, 32]", ex.Message);
    }

    [Fact]
    public void Unexpected_tensor_is_named_with_the_file()
    {
        using var dir = new ModelTempDir();
        var file = SavedWith(dir, t => t.Add(("model.layers.2.self_attn.q_proj.weight", zeros(32, 32))));
        var ex = Assert.Throws<UserInputException>(() => Checkpoint.Load(dir.Path));
        Assert.StartsWith($"{file}: unexpected tensor 'model.layers.2.self_attn.q_proj.weight'", ex.Message);
    }

    [Fact]
    public void Integer_weights_are_refused()
    {
        using var dir = new ModelTempDir();
        SavedWith(dir, t =>
        {
            var i = t.FindIndex(x => x.Name == "model.norm.weight");
            t[i] = (t[i].Name, ones(32, dtype: int64));
        });
        var ex = Assert.Throws<UserInputException>(() => Checkpoint.Load(dir.Path));
        Assert.Contains("'model.norm.weight' is stored as Int64", ex.Message);
    }

    [Fact]
    public void Corrupt_weights_file_is_named()
    {
        using var dir = new ModelTempDir();
        var file = SavedWith(dir, _ => { });
        File.WriteAllBytes(file, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
        var ex = Assert.Throws<UserInputException>(() => Checkpoint.Load(dir.Path));
        Assert.StartsWith($"{file}: not a readable safetensors file", ex.Message);
    }

    [Fact]
    public void Folder_without_weights_is_refused()
    {
        using var dir = new ModelTempDir();
        File.WriteAllText(Path.Combine(dir.Path, "config.json"), ModelFixtures.TinyJson("gpt2").ToJsonString());
        var ex = Assert.Throws<UserInputException>(() => Checkpoint.Load(dir.Path));
        Assert.Contains("no model.safetensors", ex.Message);
    }

    [Fact]
    public void Index_entries_cannot_point_outside_the_folder()
    {
        using var dir = new ModelTempDir();
        SavedWith(dir, _ => { });
        var index = Path.Combine(dir.Path, "model.safetensors.index.json");
        File.WriteAllText(index, new JsonObject
        {
            ["weight_map"] = new JsonObject { ["model.norm.weight"] = "../model.safetensors" },
        }.ToJsonString());
        var ex = Assert.Throws<UserInputException>(() => Checkpoint.Load(dir.Path));
        Assert.StartsWith($"{index}: key 'weight_map.model.norm.weight'", ex.Message);
    }

    [Fact]
    public void Index_entry_missing_from_its_shard_is_named()
    {
        using var dir = new ModelTempDir();
        var file = SavedWith(dir, t => t.RemoveAll(x => x.Name == "model.norm.weight"));
        using var model = ModelFixtures.TinyModel("llama");
        File.WriteAllText(Path.Combine(dir.Path, "model.safetensors.index.json"), new JsonObject
        {
            ["weight_map"] = new JsonObject(model.state_dict().Keys.Select(k => KeyValuePair.Create(k, (JsonNode?)JsonValue.Create("model.safetensors")))),
        }.ToJsonString());
        var ex = Assert.Throws<UserInputException>(() => Checkpoint.Load(dir.Path));
        Assert.Equal($"{file}: tensor 'model.norm.weight' is listed in model.safetensors.index.json but not stored in this file", ex.Message);
    }
}
