using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using ServerlessTune.Core.Modeling;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests.Modeling;

/// <summary>Tiny configs of every architecture and variant (hidden 32, 2 layers) and the public config fixtures.</summary>
public static class ModelFixtures
{
    public static readonly string[] TinyNames = ["gpt2", "gptj", "llama", "qwen2", "mistral", "phi3"];

    public static TheoryData<string> TinyArchitectures => new(TinyNames);

    public static JsonObject TinyJson(string name) => name switch
    {
        "gpt2" => new JsonObject
        {
            ["model_type"] = "gpt2", ["vocab_size"] = 97, ["n_embd"] = 32, ["n_layer"] = 2, ["n_head"] = 4, ["n_positions"] = 64,
            ["eos_token_id"] = 96, ["bos_token_id"] = 96,
        },
        // rotary on half of each 8-dim head: the pass-through part is exercised too
        "gptj" => new JsonObject
        {
            ["model_type"] = "gptj", ["vocab_size"] = 97, ["n_embd"] = 32, ["n_layer"] = 2, ["n_head"] = 4, ["n_positions"] = 64,
            ["rotary_dim"] = 4, ["eos_token_id"] = 96,
        },
        // grouped-query attention, Llama 3 rope scaling, tied head
        "llama" => new JsonObject
        {
            ["model_type"] = "llama", ["vocab_size"] = 97, ["hidden_size"] = 32, ["num_hidden_layers"] = 2, ["num_attention_heads"] = 4,
            ["num_key_value_heads"] = 2, ["intermediate_size"] = 64, ["max_position_embeddings"] = 64, ["rms_norm_eps"] = 1e-5,
            ["rope_theta"] = 500000.0, ["tie_word_embeddings"] = true, ["eos_token_id"] = new JsonArray(95, 96),
            ["rope_scaling"] = new JsonObject
            {
                ["rope_type"] = "llama3", ["factor"] = 8.0, ["low_freq_factor"] = 1.0, ["high_freq_factor"] = 4.0,
                ["original_max_position_embeddings"] = 16,
            },
        },
        // q/k/v biases, untied head
        "qwen2" => new JsonObject
        {
            ["model_type"] = "qwen2", ["vocab_size"] = 97, ["hidden_size"] = 32, ["num_hidden_layers"] = 2, ["num_attention_heads"] = 4,
            ["num_key_value_heads"] = 1, ["intermediate_size"] = 48, ["max_position_embeddings"] = 64, ["rms_norm_eps"] = 1e-6,
            ["rope_theta"] = 1000000.0, ["tie_word_embeddings"] = false,
        },
        // a sliding window shorter than the test sequences
        "mistral" => new JsonObject
        {
            ["model_type"] = "mistral", ["vocab_size"] = 97, ["hidden_size"] = 32, ["num_hidden_layers"] = 2, ["num_attention_heads"] = 4,
            ["num_key_value_heads"] = 2, ["head_dim"] = 8, ["intermediate_size"] = 64, ["max_position_embeddings"] = 64,
            ["sliding_window"] = 5,
        },
        // fused projections, partial rotary
        "phi3" => new JsonObject
        {
            ["model_type"] = "phi3", ["vocab_size"] = 97, ["hidden_size"] = 32, ["num_hidden_layers"] = 2, ["num_attention_heads"] = 4,
            ["num_key_value_heads"] = 2, ["intermediate_size"] = 64, ["max_position_embeddings"] = 64, ["partial_rotary_factor"] = 0.5,
        },
        _ => throw new ArgumentException(name),
    };

    public static ModelConfig Tiny(string name) => ModelConfig.FromJson(TinyJson(name), $"tiny {name}");

    public static CausalLM TinyModel(string name, long seed = 1) => CausalLMFactory.Create(Tiny(name), seed: seed);

    /// <summary>Same dtype, shape and bytes.</summary>
    public static bool BitEqual(Tensor a, Tensor b) =>
        a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.contiguous().bytes.SequenceEqual(b.contiguous().bytes);

    /// <summary>Fixtures/configs/{name}/config.json: beside the test binaries when copied, else in the source tree.</summary>
    public static string PublicConfig(string name, [CallerFilePath] string thisFile = "")
    {
        var copied = Path.Combine(AppContext.BaseDirectory, "Fixtures", "configs", name, "config.json");
        if (File.Exists(copied)) return copied;
        return Path.Combine(Path.GetDirectoryName(thisFile)!, "..", "Fixtures", "configs", name, "config.json");
    }
}

/// <summary>A temporary folder removed after the test.</summary>
public sealed class ModelTempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("stune-model-").FullName;
    public void Dispose() => Directory.Delete(Path, recursive: true);
}
