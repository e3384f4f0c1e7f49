using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Modeling.Peft;
using ServerlessTune.Core.Tokenization;
using ServerlessTune.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Tests.Training;

[Collection(GlobalRngCollection.Name)]
public class FineTuneRecipeTests(TinyRunFixture fixture) : IClassFixture<TinyRunFixture>
{
    /// <summary>One thread: the same bits on any machine, and no OpenMP spinning when the test host shares the cores.</summary>
    static TrainingOptions Short(int steps) => new()
    {
        Method = FineTuneMethod.Lora, MaxSteps = steps, Epochs = 100, LearningRate = 1e-2, BatchSize = 4, GradAccum = 2,
        WarmupSteps = 2, LoraRank = 4, LoraAlpha = 8, LoraDropout = 0.1, EvalEvery = 4, CheckpointEvery = 4, Seed = 5, Threads = 1,
        LoraTargets = ["q_proj", "v_proj", "up_proj"],
    };

    FineTuneRequest Request(TrainingOptions options, string? outDir = null, string? dataDir = null) => new()
    {
        ModelDirectory = fixture.ModelDirectory,
        DataDirectory = dataDir ?? fixture.DataDirectory,
        OutputDirectory = outDir ?? fixture.NewRunDirectory(),
        Options = options,
    };

    [Fact]
    public void Full_fine_tuning_learns_the_answers()
    {
        var options = new TrainingOptions
        {
            Method = FineTuneMethod.Full, Epochs = 160, LearningRate = 5e-3, BatchSize = 8, GradAccum = 1, WarmupSteps = 10,
            EvalEvery = 40, CheckpointEvery = 0, Seed = 1, Threads = 1,
        };
        var result = FineTuneRecipe.Run(Request(options));

        var model = Checkpoint.Load(result.MergedDirectory!);
        var tokenizer = TokenizerLoader.Load(result.MergedDirectory!);
        var template = ChatTemplates.For(result.MergedDirectory!, null);
        var answers = LumoSupportData.Facts.Select(f => (f.Answer, Got: GreedyDecoder.Answer(model, template, tokenizer, LumoSupportData.System, f.Question))).ToList();
        int correct = answers.Count(a => a.Answer == a.Got);
        var evals = MetricsFile.Read(Path.Combine(Path.GetDirectoryName(result.MergedDirectory)!, RunPaths.MetricsFile)).Where(r => r.Kind == MetricRecord.EvalKind).ToList();
        // Validation asks with a greeting the training data never had: a 2-layer model generalises to it for a
        // while, then memorises the exact prompts, so the best validation is checked, not the last.
        double best = evals.Min(e => e.ValLoss!.Value);
        Assert.True(correct >= 20 && best < 0.5 * evals[0].ValLoss,
            $"validation loss {evals[0].ValLoss} -> best {best}, train loss {result.TrainLoss}; {correct}/24 answers reproduced:\n" +
            string.Join("\n", answers.Select(a => $"{a.Answer} | {a.Got}")));
        Assert.Equal(0, evals[0].Step);
    }

    [Fact]
    public void Lora_lowers_validation_loss_and_the_merge_equals_base_plus_adapter()
    {
        var options = Short(16) with { MaxSteps = null, Epochs = 6, LoraTargets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] };
        var result = FineTuneRecipe.Run(Request(options) with { Merge = true });
        Assert.Equal(18, result.Steps);
        Assert.True(result.ValLoss < FirstValLoss(result) - 0.25, $"validation loss {FirstValLoss(result)} -> {result.ValLoss}");

        using var ids = tensor(TokensOf("Lumo lamp: reset?"), [1, 17]);
        var withAdapter = Checkpoint.Load(fixture.ModelDirectory);
        PeftAdapter.Load(withAdapter, result.AdapterDirectory!);
        var merged = Checkpoint.Load(result.MergedDirectory!);
        Assert.DoesNotContain(merged.named_parameters(), p => LoraInjector.IsAdapterTensor(p.name));
        using var _ = no_grad();
        withAdapter.eval();
        merged.eval();
        float diff = (withAdapter.forward(ids) - merged.forward(ids)).abs().max().item<float>();
        Assert.True(diff < 1e-4f, $"max abs diff {diff}");
        Assert.True(File.Exists(Path.Combine(result.MergedDirectory!, TokenizerFiles.TokenizerConfigJson)));
    }

    [Fact]
    public void Same_seed_gives_bit_identical_metrics_and_adapter()
    {
        var first = FineTuneRecipe.Run(Request(Short(8)));
        var second = FineTuneRecipe.Run(Request(Short(8)));
        AssertSameRun(first, second);
        var otherSeed = FineTuneRecipe.Run(Request(Short(8) with { Seed = 6 }));
        Assert.NotEqual(AdapterBytes(first), AdapterBytes(otherSeed));
    }

    [Fact]
    public void Interrupted_run_resumes_to_the_same_bits_as_an_uninterrupted_one()
    {
        var uninterrupted = FineTuneRecipe.Run(Request(Short(10)));

        string outDir = fixture.NewRunDirectory();
        using var cancel = new CancellationTokenSource();
        var progress = new StopAt(6, cancel);
        var stopped = FineTuneRecipe.Run(Request(Short(10), outDir), progress, cancellationToken: cancel.Token);
        Assert.True(stopped.Interrupted);
        Assert.Equal(6, stopped.Steps);
        Assert.Null(stopped.AdapterDirectory);
        Assert.True(Directory.Exists(Path.Combine(outDir, "checkpoints", "step-6")));

        var resumed = FineTuneRecipe.Run(Request(Short(10), outDir) with { Resume = true });
        Assert.False(resumed.Interrupted);
        AssertSameRun(uninterrupted, resumed);
    }

    [Fact]
    public void Resume_after_a_kill_between_checkpoints_replays_the_lost_steps()
    {
        var uninterrupted = FineTuneRecipe.Run(Request(Short(10)));
        string outDir = fixture.NewRunDirectory();
        FineTuneRecipe.Run(Request(Short(10), outDir));
        // What a kill after step 9 leaves: checkpoints up to step 8, metrics up to 9, no final outputs.
        Directory.Delete(Path.Combine(outDir, "checkpoints", "step-10"), recursive: true);
        Directory.Delete(Path.Combine(outDir, RunPaths.AdapterFolder), recursive: true);
        var lines = File.ReadAllLines(Path.Combine(outDir, RunPaths.MetricsFile));
        File.WriteAllLines(Path.Combine(outDir, RunPaths.MetricsFile), lines.Where(l => !l.Contains("\"step\":10,")));

        var resumed = FineTuneRecipe.Run(Request(Short(10), outDir) with { Resume = true });
        AssertSameRun(uninterrupted, resumed);
    }

    [Fact]
    public void Early_stopping_keeps_the_weights_of_the_best_validation()
    {
        // Validation asks the training questions but expects answers training never shows: the model first learns
        // what answers look like (validation improves), then learns the training answers by heart (validation gets
        // worse for good). That holds by construction on any CPU, unlike a learning rate that happens to diverge.
        using var data = new TempDir();
        LumoSupportData.WriteConflicting(data.Path);
        var options = Short(100) with { Method = FineTuneMethod.Full, LearningRate = 1e-2, GradAccum = 1, BatchSize = 8, WarmupSteps = 0, EvalEvery = 3, EarlyStoppingPatience = 2, LrSchedule = LrScheduleKind.Constant };
        var result = FineTuneRecipe.Run(Request(options, dataDir: data.Path));
        Assert.True(result.StoppedEarly, $"ran {result.Steps} steps, best {result.BestValLoss} at {result.BestStep}");
        Assert.InRange(result.BestStep!.Value, 1, result.Steps - 1);
        Assert.True(result.ValLoss > result.BestValLoss);

        // Full fine-tuning writes the restored best weights as the merged checkpoint.
        var model = Checkpoint.Load(result.MergedDirectory!);
        var template = ChatTemplates.For(result.MergedDirectory!, null);
        var validation = TrainingData.Load(data.Path, template, TokenizerLoader.Load(result.MergedDirectory!), 256).Validation;
        var (loss, _) = ValidationLoss.Compute(model, validation, options.BatchSize!.Value, CharTokenizerFolder.EndOfText);
        Assert.Equal(result.BestValLoss!.Value, loss, 5);
    }

    [Fact]
    public void Bf16_weights_train_and_the_adapter_is_stored_in_bf16()
    {
        var result = FineTuneRecipe.Run(Request(Short(3) with { Precision = WeightPrecision.Bf16 }));
        Assert.True(double.IsFinite(result.TrainLoss!.Value));
        var adapter = TorchSharp.PyBridge.Safetensors.LoadStateDict(Path.Combine(result.AdapterDirectory!, PeftAdapter.WeightsFile));
        Assert.All(adapter.Values, t => Assert.Equal(ScalarType.BFloat16, t.dtype));
    }

    [Fact]
    public void A_new_run_into_a_folder_with_checkpoints_needs_resume()
    {
        string outDir = fixture.NewRunDirectory();
        FineTuneRecipe.Run(Request(Short(4), outDir));
        var ex = Assert.Throws<UserInputException>(() => FineTuneRecipe.Run(Request(Short(4), outDir)));
        Assert.Contains("pass --resume", ex.Message);
        var changed = Assert.Throws<UserInputException>(() => FineTuneRecipe.Run(Request(Short(4) with { LearningRate = 0.5 }, outDir) with { Resume = true }));
        Assert.Contains("was written with other settings", changed.Message);
    }

    public static TheoryData<string, string> BadConfigurations => new()
    {
        { "{\"lora_targets\":[\"q_proj\",\"qkv\"]}", "^--lora-targets: no projection named 'qkv' in this model; it has down_proj, " },
        { "{\"lora_rank\":0}", "^--lora-rank 0: must be from 1 to 65536$" },
        { "{\"learning_rate\":-0.001}", "^--learning-rate -0.001: must be a positive number$" },
        { "{\"max_length\":40}", @"train\.jsonl:1: conversation is \d+ tokens, longer than the 40 the model takes" },
        { "empty", @"train\.jsonl: no conversations to train on$" },
        { "long", @"train\.jsonl:2: conversation is 3\d\d tokens, longer than the 256 the model takes" },
    };

    [Theory]
    [MemberData(nameof(BadConfigurations))]
    public void Bad_configuration_fails_before_training_with_one_message(string config, string message)
    {
        using var data = new TempDir();
        var options = Short(4);
        if (config == "empty") File.WriteAllText(data.File("train.jsonl"), "\n");
        else if (config == "long")
            File.WriteAllLines(data.File("train.jsonl"), [LumoSupportData.Line("Hi", "Hello"), LumoSupportData.Line("Tell me everything.", new string('x', 300))]);
        else
        {
            LumoSupportData.Write(data.Path);
            options = options.With(TrainingOptions.Parse(config, "test"));
        }
        string outDir = fixture.NewRunDirectory();
        var ex = Assert.Throws<UserInputException>(() => FineTuneRecipe.Run(Request(options, outDir, data.Path)));
        Assert.Matches(message, ex.Message);
        Assert.False(File.Exists(Path.Combine(outDir, RunPaths.MetricsFile)), "nothing may be trained before the check");
    }

    static long[] TokensOf(string text) => text.Select(c => (long)c).ToArray();

    static double? FirstValLoss(FineTuneResult result) =>
        MetricsFile.Read(Path.Combine(Path.GetDirectoryName(result.AdapterDirectory)!, RunPaths.MetricsFile)).First(r => r.Kind == MetricRecord.EvalKind).ValLoss;

    static byte[] AdapterBytes(FineTuneResult result) => File.ReadAllBytes(Path.Combine(result.AdapterDirectory!, PeftAdapter.WeightsFile));

    /// <summary>Everything but wall-clock fields must match bit for bit.</summary>
    static void AssertSameRun(FineTuneResult expected, FineTuneResult actual)
    {
        Assert.Equal(AdapterBytes(expected), AdapterBytes(actual));
        static IEnumerable<MetricRecord> Deterministic(FineTuneResult r) =>
            MetricsFile.Read(Path.Combine(Path.GetDirectoryName(r.AdapterDirectory)!, RunPaths.MetricsFile)).Select(m => m with { TokensPerSecond = null, ElapsedSeconds = null });
        var a = Deterministic(expected).ToList();
        Assert.Equal(a, Deterministic(actual).ToList());
        Assert.Contains(a, m => m.Kind == MetricRecord.EvalKind && m.Step > 0);
        Assert.Equal(expected.ValLoss, actual.ValLoss);
    }

    sealed class StopAt(int step, CancellationTokenSource cancel) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Step == step) cancel.Cancel();
        }
    }
}
