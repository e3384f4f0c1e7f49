using System.Text.Json;

namespace ServerlessTune.Cli.Tests;

public class ModelCommandTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("stune-model-cli-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    // The public EleutherAI/gpt-j-6B config.json, trimmed to the keys that shape the model.
    const string GptJ6B = """
        {"architectures": ["GPTJForCausalLM"], "model_type": "gptj", "n_embd": 4096, "n_head": 16, "n_layer": 28,
         "n_positions": 2048, "rotary_dim": 64, "n_inner": null, "activation_function": "gelu_new",
         "layer_norm_epsilon": 1e-05, "tie_word_embeddings": false, "vocab_size": 50400, "bos_token_id": 50256, "eos_token_id": 50256}
        """;

    string Write(string name, string json)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void Info_json_reports_the_exact_count_of_a_6b_config()
    {
        var result = Stune.Run("model", "info", Write("config.json", GptJ6B), "--json");
        Assert.Equal(0, result.ExitCode);
        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.Equal("GPTJForCausalLM", doc.RootElement.GetProperty("architecture").GetString());
        Assert.Equal("gptj", doc.RootElement.GetProperty("model_type").GetString());
        Assert.Equal(6_050_882_784L, doc.RootElement.GetProperty("parameters").GetInt64());
        Assert.Equal(28, doc.RootElement.GetProperty("num_hidden_layers").GetInt32());
    }

    [Fact]
    public void Info_plain_prints_a_short_summary_for_a_folder()
    {
        Write("config.json", GptJ6B);
        var result = Stune.Run("model", "info", dir);
        Assert.Equal(0, result.ExitCode);
        var lines = result.Stdout.TrimEnd().Split('\n');
        Assert.Equal("GPTJForCausalLM (gptj): 6,050,882,784 parameters", lines[0]);
        Assert.Equal("28 layers, hidden 4096, 16 heads, vocab 50400, context 2048, untied embeddings", lines[1]);
    }

    [Fact]
    public void Info_on_a_malformed_config_names_file_and_key()
    {
        var path = Write("config.json", GptJ6B.Replace("\"n_layer\": 28", "\"n_layer\": -1"));
        var result = Stune.Run("model", "info", path);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Stdout);
        Assert.Contains($"{path}: key 'n_layer': must be positive, got -1", result.Stderr);
    }

    [Fact]
    public void Info_on_a_missing_path_is_a_user_error()
    {
        var result = Stune.Run("model", "info", Path.Combine(dir, "nope"));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("nope", result.Stderr);
    }

    [Fact]
    public void Init_writes_a_checkpoint_that_info_reads_back()
    {
        var output = Path.Combine(dir, "tiny");
        var init = Stune.Run("model", "init", "--arch", "qwen2", "--preset", "tiny", "--out", output, "--seed", "7", "--json");
        Assert.Equal(0, init.ExitCode);
        using var created = JsonDocument.Parse(init.Stdout);
        Assert.Equal(Path.GetFullPath(output), created.RootElement.GetProperty("path").GetString());
        foreach (var file in new[] { "config.json", "model.safetensors", "generation_config.json", "tokenizer.json", "tokenizer_config.json" })
            Assert.True(File.Exists(Path.Combine(output, file)), file);

        var info = Stune.Run("model", "info", output, "--json");
        Assert.Equal(0, info.ExitCode);
        using var doc = JsonDocument.Parse(info.Stdout);
        Assert.Equal("Qwen2ForCausalLM", doc.RootElement.GetProperty("architecture").GetString());
        Assert.Equal(created.RootElement.GetProperty("parameters").GetInt64(), doc.RootElement.GetProperty("parameters").GetInt64());
        Assert.Equal("float32", doc.RootElement.GetProperty("torch_dtype").GetString());
    }

    [Fact]
    public void Init_with_the_same_seed_writes_the_same_weights()
    {
        string Init(string name, string seed)
        {
            var output = Path.Combine(dir, name);
            Assert.Equal(0, Stune.Run("model", "init", "--arch", "gpt2", "--preset", "tiny", "--out", output, "--seed", seed).ExitCode);
            return Path.Combine(output, "model.safetensors");
        }
        Assert.Equal(File.ReadAllBytes(Init("a", "5")), File.ReadAllBytes(Init("b", "5")));
    }

    [Fact]
    public void Init_with_an_unknown_architecture_is_a_usage_error()
    {
        var result = Stune.Run("model", "init", "--arch", "bert", "--preset", "tiny", "--out", Path.Combine(dir, "x"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("bert", result.Stderr);
        Assert.False(Directory.Exists(Path.Combine(dir, "x")));
    }
}
