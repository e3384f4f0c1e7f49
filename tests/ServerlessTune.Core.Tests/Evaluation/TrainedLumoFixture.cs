using System.Text.Json;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Modeling.Peft;
using ServerlessTune.Core.Training;
using ServerlessTune.Core.Tests.Training;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests.Evaluation;

/// <summary>
/// A ModelPresets tiny llama (random, the base) LoRA-trained by the trainer's recipe on eight Lumo support
/// answers (the candidate), those questions as the domain suite, a gate, two scripted dialogues, and a broken
/// candidate: the trained adapter with its lora_B tensors replaced by noise. Made once for the class.
/// </summary>
public sealed class TrainedLumoFixture : IDisposable
{
    public static readonly (string Question, string Answer)[] Facts = LumoSupportData.Facts.Take(8).ToArray();

    readonly TinyRunFixture run = new();

    public TrainedLumoFixture()
    {
        // Validation asks the same questions with a greeting; training sees them plain.
        LumoSupportData.Write(DataDirectory);
        File.WriteAllLines(Path.Combine(DataDirectory, "train.jsonl"), Facts.Select(f => LumoSupportData.Line(f.Question, f.Answer)));
        // A random base cannot be LoRA-tuned far: its tied embeddings and final norm (which LoRA leaves frozen) cap
        // how peaked its predictions can get. So the domain model is a full fine-tune (merged folder), and the
        // adapter, from a short LoRA run, serves the base + adapter path and the broken candidate.
        CandidateDirectory = Train("full", new TrainingOptions
        {
            Method = FineTuneMethod.Full, Epochs = 150, LearningRate = 5e-3, BatchSize = 8, GradAccum = 1, WarmupSteps = 10,
            EvalEvery = 50, CheckpointEvery = 0, Seed = 1, Threads = 1,
        }).MergedDirectory!;
        AdapterDirectory = Train("lora", new TrainingOptions
        {
            Method = FineTuneMethod.Lora, MaxSteps = 4, LearningRate = 1e-2, BatchSize = 8, LoraRank = 4, LoraDropout = 0,
            CheckpointEvery = 0, Seed = 2, Threads = 1, LoraTargets = ["q_proj", "v_proj", "up_proj"],
        }).AdapterDirectory!;
        BrokenAdapterDirectory = Path.Combine(Root, "broken-adapter");
        WriteBrokenAdapter(AdapterDirectory, BrokenAdapterDirectory);

        SuiteFile = Path.Combine(Root, "suite.jsonl");
        File.WriteAllLines(SuiteFile, Facts.Select((f, i) => JsonSerializer.Serialize(new
        {
            id = $"lumo-{i:00}",
            messages = new object[] { new { role = "system", content = LumoSupportData.System }, new { role = "user", content = f.Question } },
            references = new[] { f.Answer },
            checks = new { must_not_contain = new[] { "competitor" } },
            tags = new[] { i < 4 ? "setup" : "product" },
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
            new { id = "warranty-then-return", system = LumoSupportData.System, turns = new[] { Facts[1].Question, Facts[3].Question } },
            new { id = "no-system", turns = new[] { "Hello" } },
        }));
    }

    public string Root => Path.GetDirectoryName(run.ModelDirectory)!;
    public string BaseDirectory => run.ModelDirectory;
    public string DataDirectory => Path.Combine(Root, "lumo-data");
    public string ValidationFile => Path.Combine(DataDirectory, "validation.jsonl");
    public string MetricsFile => Path.Combine(Root, "full", RunPaths.MetricsFile);
    /// <summary>The fully fine-tuned domain model (merged Hugging Face folder).</summary>
    public string CandidateDirectory { get; }
    public string AdapterDirectory { get; }
    public string BrokenAdapterDirectory { get; }
    public string SuiteFile { get; }
    public string GateFile { get; }
    public string DialoguesFile { get; }

    FineTuneResult Train(string run, TrainingOptions options) => FineTuneRecipe.Run(new FineTuneRequest
    {
        ModelDirectory = BaseDirectory, DataDirectory = DataDirectory, OutputDirectory = Path.Combine(Root, run), Options = options,
    });

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
