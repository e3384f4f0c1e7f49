using System.Text.Json.Nodes;
using ServerlessTune.Core.Modeling.Peft;
using ServerlessTune.Core.Tests.Training;
using ServerlessTune.Core.Training;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests.Modeling.Peft;

[Collection(GlobalRngCollection.Name)]
public class PeftAdapterTests
{
    [Theory]
    [InlineData("llama", "q_proj", false)]
    [InlineData("gpt2", "c_attn", true)]
    public void Saves_peft_layout_and_loads_back_to_the_same_logits(string arch, string target, bool fanInFanOut)
    {
        using var dir = new TempDir();
        var model = TinyModels.ByType(arch);
        LoraInjector.Attach(model, ResolvedTrainingOptions.DefaultLoraTargets(arch), rank: 4, alpha: 8, dropout: 0.05);
        using (no_grad())
            foreach (var (_, p) in LoraInjector.AdapterParameters(model)) p.add_(0.05);
        PeftAdapter.Save(model, new PeftAdapterConfig
        {
            R = 4, LoraAlpha = 8, LoraDropout = 0.05, TargetModules = LoraInjector.TargetModuleNames(model),
            BaseModelNameOrPath = "/models/base", FanInFanOut = arch == "gpt2",
        }, dir.Path);

        var json = JsonNode.Parse(File.ReadAllText(dir.File(PeftAdapterConfig.FileName)))!;
        Assert.Equal("LORA", (string)json["peft_type"]!);
        Assert.Equal("CAUSAL_LM", (string)json["task_type"]!);
        Assert.Equal(4, (int)json["r"]!);
        Assert.Equal(8.0, (double)json["lora_alpha"]!);
        Assert.Equal(0.05, (double)json["lora_dropout"]!);
        Assert.Equal(target, (string)json["target_modules"]![0]!);
        Assert.Equal("/models/base", (string)json["base_model_name_or_path"]!);
        Assert.Equal(fanInFanOut, (bool)json["fan_in_fan_out"]!);

        var names = Safetensors.LoadStateDict(dir.File(PeftAdapter.WeightsFile)).Keys.Order(StringComparer.Ordinal).ToList();
        string layer0 = arch == "gpt2" ? "transformer.h.0.attn.c_attn" : "model.layers.0.self_attn.q_proj";
        Assert.Contains($"base_model.model.{layer0}.lora_A.weight", names);
        Assert.Contains($"base_model.model.{layer0}.lora_B.weight", names);
        Assert.All(names, n => Assert.Matches(@"^base_model\.model\..*\.lora_[AB]\.weight$", n));

        using var ids = tensor(new long[] { 3, 1, 4, 1, 5, 9, 2, 6 }, [1, 8]);
        model.eval();
        var reloaded = TinyModels.ByType(arch);
        PeftAdapter.Load(reloaded, dir.Path);
        reloaded.eval();
        using var _ = no_grad();
        Assert.Equal(model.forward(ids).data<float>().ToArray(), reloaded.forward(ids).data<float>().ToArray());
    }

    [Fact]
    public void Adapter_for_other_targets_fails_naming_the_tensor()
    {
        using var dir = new TempDir();
        var model = TinyModels.Llama();
        LoraInjector.Attach(model, ["q_proj", "v_proj"], 4, 8, 0);
        PeftAdapter.Save(model, new PeftAdapterConfig { R = 4, LoraAlpha = 8, LoraDropout = 0, TargetModules = ["q_proj"], BaseModelNameOrPath = "b" }, dir.Path);
        var ex = Assert.Throws<UserInputException>(() => PeftAdapter.Load(TinyModels.Llama(), dir.Path));
        Assert.Contains("v_proj.lora_A.weight matches no LoRA target of this model", ex.Message);
    }
}
