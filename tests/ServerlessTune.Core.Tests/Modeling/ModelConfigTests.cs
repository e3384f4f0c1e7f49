using System.Text.Json.Nodes;
using ServerlessTune.Core.Modeling;

namespace ServerlessTune.Core.Tests.Modeling;

public class ModelConfigTests
{
    static UserInputException LoadFails(string json, out string file)
    {
        var dir = Directory.CreateTempSubdirectory("stune-config-").FullName;
        file = Path.Combine(dir, "config.json");
        File.WriteAllText(file, json);
        try
        {
            return Assert.Throws<UserInputException>(() => Checkpoint.Load(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    static string TinyWith(string arch, string key, JsonNode? value)
    {
        var json = ModelFixtures.TinyJson(arch);
        if (value is null) json.Remove(key);
        else json[key] = value;
        return json.ToJsonString();
    }

    [Fact]
    public void Missing_key_is_named_with_the_file()
    {
        var ex = LoadFails(TinyWith("llama", "num_hidden_layers", null), out var file);
        Assert.Equal($"{file}: key 'num_hidden_layers': missing", ex.Message);
    }

    [Fact]
    public void Wrong_type_is_named_with_the_value()
    {
        var ex = LoadFails(TinyWith("gpt2", "n_embd", "big"), out var file);
        Assert.Equal($"{file}: key 'n_embd': expected an integer, got \"big\"", ex.Message);
    }

    [Fact]
    public void Heads_that_do_not_divide_hidden_are_refused()
    {
        var ex = LoadFails(TinyWith("qwen2", "num_attention_heads", 5), out var file);
        Assert.Equal($"{file}: key 'num_attention_heads': 5 does not divide hidden_size 32", ex.Message);
    }

    [Fact]
    public void Unknown_model_type_is_refused()
    {
        var ex = LoadFails(TinyWith("gpt2", "model_type", "bert"), out var file);
        Assert.StartsWith($"{file}: key 'model_type': 'bert' is not supported", ex.Message);
    }

    [Fact]
    public void Unsupported_rope_scaling_is_refused()
    {
        var ex = LoadFails(TinyWith("phi3", "rope_scaling", new JsonObject { ["type"] = "longrope", ["short_factor"] = new JsonArray(1.0) }), out var file);
        Assert.StartsWith($"{file}: key 'rope_scaling': rope type 'longrope' is not supported", ex.Message);
    }

    [Fact]
    public void Invalid_json_names_the_line()
    {
        var ex = LoadFails("{\n  \"model_type\": \"gpt2\",\n  \"n_embd\": ,\n}", out var file);
        Assert.StartsWith($"{file}: line 3: not valid JSON", ex.Message);
    }

    [Fact]
    public void Defaults_follow_transformers_config_classes()
    {
        var gpt2 = ModelFixtures.Tiny("gpt2");
        Assert.True(gpt2.TieWordEmbeddings);
        Assert.Equal(128, gpt2.IntermediateSize);
        Assert.Equal("gelu_new", gpt2.HiddenAct);
        var qwen2 = ModelConfig.Load(ModelFixtures.PublicConfig("qwen2.5-0.5b"));
        Assert.True(qwen2.QkvBias);
        Assert.False(qwen2.OutputBias);
        Assert.Null(qwen2.SlidingWindow);
        var llama = ModelFixtures.Tiny("llama");
        Assert.Equal([95, 96], llama.EosTokenIds);
        var tinyllama = ModelConfig.Load(ModelFixtures.PublicConfig("tinyllama-1.1b"));
        Assert.Equal(4, tinyllama.NumKvHeads);
        Assert.False(tinyllama.TieWordEmbeddings);
        Assert.Equal(2047, ModelConfig.Load(ModelFixtures.PublicConfig("phi-3-mini-4k")).SlidingWindow);
    }
}
