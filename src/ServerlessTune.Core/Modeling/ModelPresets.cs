using System.Text.Json.Nodes;

namespace ServerlessTune.Core.Modeling;

/// <summary>
/// Configs for new random models: tiny (hidden 64, 2 layers, 4 heads) for tests and the offline default,
/// small (hidden 512, 8 layers, 8 heads, about 50M parameters with a 50k vocab; GPT-J about 76M, since
/// its head cannot be tied) for benchmarks.
/// Each is written in its architecture's own config.json keys so Transformers reads it unchanged.
/// </summary>
public static class ModelPresets
{
    public static readonly string[] Architectures = ["gpt2", "gptj", "llama", "qwen2", "phi3"];
    public static readonly string[] Presets = ["tiny", "small"];
    public const int ContextLength = 256;

    public static ModelConfig Create(string arch, string preset, int vocabSize, int? bosTokenId = null, int? eosTokenId = null, int? padTokenId = null)
    {
        var (hidden, layers, heads, kvHeads) = preset switch
        {
            "tiny" => (64, 2, 4, 2),
            "small" => (512, 8, 8, 4),
            _ => throw new UserInputException($"--preset: '{preset}' is not a preset (choose {string.Join(", ", Presets)})"),
        };
        if (vocabSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, "vocabulary size must be positive");
        // SwiGLU's three matrices get 2/3 of the 4x width, rounded up to a multiple of 64 as Llama does.
        var swiGluWidth = (hidden * 8 / 3 + 63) / 64 * 64;
        var json = arch switch
        {
            "gpt2" => new JsonObject
            {
                ["model_type"] = "gpt2", ["n_embd"] = hidden, ["n_layer"] = layers, ["n_head"] = heads,
                ["n_positions"] = ContextLength, ["n_ctx"] = ContextLength, ["activation_function"] = "gelu_new",
                ["layer_norm_epsilon"] = 1e-5, ["tie_word_embeddings"] = true,
            },
            "gptj" => new JsonObject
            {
                ["model_type"] = "gptj", ["n_embd"] = hidden, ["n_layer"] = layers, ["n_head"] = heads,
                ["n_positions"] = ContextLength, ["rotary_dim"] = hidden / heads / 2, ["activation_function"] = "gelu_new",
                ["layer_norm_epsilon"] = 1e-5, ["tie_word_embeddings"] = false,
            },
            "llama" or "qwen2" or "phi3" => new JsonObject
            {
                ["model_type"] = arch, ["hidden_size"] = hidden, ["num_hidden_layers"] = layers, ["num_attention_heads"] = heads,
                ["num_key_value_heads"] = kvHeads, ["intermediate_size"] = swiGluWidth,
                ["max_position_embeddings"] = ContextLength, ["hidden_act"] = "silu", ["rms_norm_eps"] = arch == "qwen2" ? 1e-6 : 1e-5,
                ["rope_theta"] = 10000.0, ["rope_scaling"] = null, ["tie_word_embeddings"] = true,
            },
            _ => throw new UserInputException($"--arch: '{arch}' is not supported (choose {string.Join(", ", Architectures)})"),
        };
        json["vocab_size"] = vocabSize;
        json["initializer_range"] = 0.02;
        if (bosTokenId is int bos) json["bos_token_id"] = bos;
        if (eosTokenId is int eos) json["eos_token_id"] = eos;
        if (padTokenId is int pad) json["pad_token_id"] = pad;
        return ModelConfig.FromJson(json, $"preset {arch}/{preset}");
    }
}
