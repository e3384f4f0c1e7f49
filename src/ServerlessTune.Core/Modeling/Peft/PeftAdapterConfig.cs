using System.Text.Json;
using System.Text.Json.Serialization;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Modeling.Peft;

/// <summary>
/// adapter_config.json as PEFT writes it for a LoRA adapter on a causal LM, so PeftModel.from_pretrained
/// loads our adapters and we load PEFT's. fan_in_fan_out is true for GPT-2, whose Conv1D stores weights [in,out].
/// </summary>
public sealed record PeftAdapterConfig
{
    public const string FileName = "adapter_config.json";

    public string PeftType { get; init; } = "LORA";
    public string TaskType { get; init; } = "CAUSAL_LM";
    public required int R { get; init; }
    public required double LoraAlpha { get; init; }
    public required double LoraDropout { get; init; }
    public required IReadOnlyList<string> TargetModules { get; init; }
    public required string BaseModelNameOrPath { get; init; }
    public bool FanInFanOut { get; init; }
    public string Bias { get; init; } = "none";
    public bool InferenceMode { get; init; } = true;
    public bool InitLoraWeights { get; init; } = true;
    public bool UseRslora { get; init; }
    public bool UseDora { get; init; }
    public IReadOnlyList<string>? ModulesToSave { get; init; }
    public Dictionary<string, int> RankPattern { get; init; } = [];
    public Dictionary<string, double> AlphaPattern { get; init; } = [];

    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    public void Write(string adapterDirectory)
    {
        Directory.CreateDirectory(adapterDirectory);
        AtomicFile.Write(Path.Combine(adapterDirectory, FileName), JsonSerializer.SerializeToUtf8Bytes(this, Json));
    }

    public static PeftAdapterConfig Read(string adapterDirectory)
    {
        string path = Path.Combine(adapterDirectory, FileName);
        if (!File.Exists(path)) throw new UserInputException($"{path}: adapter config not found");
        PeftAdapterConfig? config;
        try { config = JsonSerializer.Deserialize<PeftAdapterConfig>(File.ReadAllBytes(path), Json); }
        catch (JsonException ex) { throw new UserInputException($"{path}: invalid adapter config ({ex.Message.Split(". ")[0]})", ex); }
        if (config is null) throw new UserInputException($"{path}: adapter config is null");
        if (config.PeftType != "LORA") throw new UserInputException($"{path}: peft_type {config.PeftType} is not supported, only LORA");
        if (config.R < 1) throw new UserInputException($"{path}: r must be at least 1");
        if (config.UseDora || config.UseRslora) throw new UserInputException($"{path}: use_dora/use_rslora adapters are not supported");
        if (config.RankPattern.Count > 0 || config.AlphaPattern.Count > 0)
            throw new UserInputException($"{path}: rank_pattern/alpha_pattern are not supported");
        return config;
    }
}
