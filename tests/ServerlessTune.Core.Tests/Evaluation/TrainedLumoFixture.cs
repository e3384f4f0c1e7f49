using System.Text.Json;
using ServerlessTune.Core.Training;
using ServerlessTune.Core.Tests.Training;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests.Evaluation;

/// <summary>
/// A ModelPresets tiny llama (random, the base) LoRA-trained by the trainer's recipe on the Lumo support data
/// (the candidate), the Lumo questions as a suite, a gate, two scripted dialogues, and a broken candidate:
/// the trained adapter with its lora_B tensors replaced by noise. Made once for the class.
/// </summary>
public sealed class TrainedLumoFixture : IDisposable
{
    readonly TinyRunFixture run = new();

    public TrainedLumoFixture()
    {
        var result = FineTuneRecipe.Run(new FineTuneRequest
        {
            ModelDirectory = BaseDirectory,
            DataDirectory = run.DataDirectory,
            OutputDirectory = RunDirectory,
            Options = new TrainingOptions
            {
                Method = FineTuneMethod.Lora, Epochs = 150, LearningRate = 2e-2, BatchSize = 8, GradAccum = 1, WarmupSteps = 10,
                LoraRank = 32, LoraAlpha = 64, LoraDropout = 0, EvalEvery = 0, CheckpointEvery = 0, Seed = 2,
                LoraTargets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
            },
        });
        AdapterDirectory = result.AdapterDirectory!;
        BrokenAdapterDirectory = Path.Combine(Root, "broken-adapter");
        WriteBrokenAdapter(AdapterDirectory, BrokenAdapterDirectory);

        SuiteFile = Path.Combine(Root, "suite.jsonl");
        File.WriteAllLines(SuiteFile, LumoSupportData.Facts.Select((f, i) => JsonSerializer.Serialize(new
        {
            id = $"lumo-{i:00}",
            messages = new object[] { new { role = "system", content = LumoSupportData.System }, new { role = "user", content = f.Question } },
            references = new[] { f.Answer },
            checks = new { must_not_contain = new[] { "competitor" } },
            tags = new[] { i < 12 ? "setup" : "product" },
        })));
        GateFile = Path.Combine(Root, "gate.json");
        File.WriteAllText(GateFile, """
            {"mode": "enforce", "rules": [
              {"metric": "perplexity", "op": "<=", "relative_to": "base", "factor": 0.9},
              {"metric": "f1", "op": ">", "relative_to": "base"},
              {"metric": "rouge_l", "op": ">=", "relative_to": "base", "offset": 0.2},
              {"metric": "must_not_contain_violations", "op": "==", "value": 0}
            ]}
            """);
        DialoguesFile = Path.Combine(Root, "dialogues.json");
        File.WriteAllText(DialoguesFile, JsonSerializer.Serialize(new object[]
        {
            new { id = "warranty-then-return", system = LumoSupportData.System, turns = new[] { LumoSupportData.Facts[1].Question, LumoSupportData.Facts[11].Question } },
            new { id = "no-system", turns = new[] { "Hello" } },
        }));
    }

    public string Root => Path.GetDirectoryName(run.ModelDirectory)!;
    public string BaseDirectory => run.ModelDirectory;
    public string DataDirectory => run.DataDirectory;
    public string ValidationFile => Path.Combine(run.DataDirectory, "validation.jsonl");
    public string RunDirectory => Path.Combine(Root, "run");
    public string MetricsFile => Path.Combine(RunDirectory, MetricsWriter.FileName);
    public string AdapterDirectory { get; }
    public string BrokenAdapterDirectory { get; }
    public string SuiteFile { get; }
    public string GateFile { get; }
    public string DialoguesFile { get; }

    /// <summary>The trained adapter's config and lora_A, with every lora_B drawn from N(0, 1): a candidate that was "trained" into noise.</summary>
    static void WriteBrokenAdapter(string trained, string broken)
    {
        Directory.CreateDirectory(broken);
        File.Copy(Path.Combine(trained, "adapter_config.json"), Path.Combine(broken, "adapter_config.json"));
        var tensors = Safetensors.LoadStateDict(Path.Combine(trained, PeftAdapter.WeightsFile));
        using var generator = new Generator(99, CPU);
        var noisy = tensors.ToDictionary(kv => kv.Key, kv => kv.Key.Contains(".lora_B.") ? randn(kv.Value.shape, generator: generator) : kv.Value);
        Safetensors.SaveStateDict(Path.Combine(broken, PeftAdapter.WeightsFile), noisy);
    }

    public void Dispose() => run.Dispose();
}
