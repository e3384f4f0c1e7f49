using ServerlessTune.Core.Storage;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Modeling.Peft;

/// <summary>
/// A LoRA adapter in PEFT's layout: adapter_config.json + adapter_model.safetensors whose tensor names are
/// "base_model.model." + the state-dict name (base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight).
/// </summary>
public static class PeftAdapter
{
    public const string WeightsFile = "adapter_model.safetensors";
    public const string Prefix = "base_model.model.";

    public static void Save(nn.Module model, PeftAdapterConfig config, string directory)
    {
        Directory.CreateDirectory(directory);
        var tensors = LoraInjector.AdapterParameters(model).ToDictionary(p => Prefix + p.Name, p => (Tensor)p.Parameter);
        if (tensors.Count == 0) throw new InvalidOperationException("the model has no LoRA adapter to save");
        AtomicFile.Write(Path.Combine(directory, WeightsFile), stream => Safetensors.SaveStateDict(stream, tensors, leaveOpen: true));
        config.Write(directory);
    }

    /// <summary>Attaches adapters as the config describes and loads their weights; every tensor in the file
    /// must land on an adapter of the model and every adapter must get a tensor.</summary>
    public static PeftAdapterConfig Load(nn.Module model, string directory)
    {
        var config = PeftAdapterConfig.Read(directory);
        string path = Path.Combine(directory, WeightsFile);
        if (!File.Exists(path)) throw new UserInputException($"{path}: adapter weights not found");
        var adapters = LoraInjector.Attach(model, config.TargetModules, config.R, config.LoraAlpha, dropout: 0);
        var saved = Safetensors.LoadStateDict(path);
        try
        {
            var expected = adapters.Select(a => Prefix + a.Name).ToHashSet();
            if (saved.Keys.FirstOrDefault(k => !expected.Contains(k)) is { } extra)
                throw new UserInputException($"{path}: tensor {extra} matches no LoRA target of this model");
            using var _ = no_grad();
            foreach (var (name, parameter) in adapters)
            {
                if (!saved.TryGetValue(Prefix + name, out var value))
                    throw new UserInputException($"{path}: tensor {Prefix + name} missing");
                if (!value.shape.SequenceEqual(parameter.shape))
                    throw new UserInputException($"{path}: tensor {Prefix + name} has shape [{string.Join(',', value.shape)}], expected [{string.Join(',', parameter.shape)}]");
                parameter.copy_(value);
            }
        }
        finally
        {
            foreach (var t in saved.Values) t.Dispose();
        }
        return config;
    }
}
