using System.Text.Json.Nodes;
using ServerlessTune.Core.Modeling;

namespace ServerlessTune.Core.Tests.Training;

/// <summary>Very small random models for component tests (the end-to-end tests use ModelPresets tiny).</summary>
public static class TinyModels
{
    public const int Vocab = 61;

    public static CausalLM Llama(long seed = 1) => Create(seed, ModelConfig.FromJson(JsonNode.Parse($$"""
        { "model_type": "llama", "vocab_size": {{Vocab}}, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
          "num_key_value_heads": 2, "intermediate_size": 48, "max_position_embeddings": 64, "eos_token_id": 0 }
        """)!.AsObject(), "tiny-llama"));

    public static CausalLM Gpt2(long seed = 1) => Create(seed, ModelConfig.FromJson(JsonNode.Parse($$"""
        { "model_type": "gpt2", "vocab_size": {{Vocab}}, "n_embd": 32, "n_layer": 2, "n_head": 4, "n_positions": 64, "eos_token_id": 0 }
        """)!.AsObject(), "tiny-gpt2"));

    /// <summary>TorchSharp 0.107's nn.init.normal_ ignores its generator argument and draws from the global
    /// one, so the global generator is seeded too.</summary>
    static CausalLM Create(long seed, ModelConfig config)
    {
        TorchSharp.torch.manual_seed(seed);
        return CausalLMFactory.Create(config, seed: seed);
    }

    public static CausalLM ByType(string modelType) => modelType == "gpt2" ? Gpt2() : Llama();
}
