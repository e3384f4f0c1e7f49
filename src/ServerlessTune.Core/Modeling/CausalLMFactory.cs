using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling;

/// <summary>config.json's model_type to the architecture class.</summary>
public static class CausalLMFactory
{
    /// <summary>A model with Transformers-style random weights from <paramref name="seed"/>.</summary>
    public static CausalLM Create(ModelConfig config, ScalarType dtype = ScalarType.Float32, long seed = 0)
    {
        var model = CreateUninitialized(config, dtype);
        model.InitializeWeights(seed);
        return model;
    }

    /// <summary>Parameters allocated but not filled: for the checkpoint loader, which overwrites every one.</summary>
    internal static CausalLM CreateUninitialized(ModelConfig config, ScalarType dtype)
    {
        if (dtype is not (ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16))
            throw new ArgumentException($"dtype {dtype} is not supported: use float32, float16 or bfloat16", nameof(dtype));
        CausalLM model = config.ModelType switch
        {
            "gpt2" => new Gpt2(config, dtype),
            "gptj" => new GptJ(config, dtype),
            "llama" or "mistral" or "qwen2" => new Llama(config, dtype),
            "phi3" => new Phi3(config, dtype),
            _ => throw new UserInputException($"{config.Source}: key 'model_type': '{config.ModelType}' is not supported"),
        };
        model.eval();
        return model;
    }
}
