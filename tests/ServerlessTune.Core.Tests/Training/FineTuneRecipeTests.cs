using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Tokenization;
using ServerlessTune.Core.Training;

namespace ServerlessTune.Core.Tests.Training;

public class FineTuneRecipeTests(TinyRunFixture fixture) : IClassFixture<TinyRunFixture>
{
    FineTuneRequest Request(TrainingOptions options, string? outDir = null) => new()
    {
        ModelDirectory = fixture.ModelDirectory,
        DataDirectory = fixture.DataDirectory,
        OutputDirectory = outDir ?? fixture.NewRunDirectory(),
        Options = options,
    };

    [Theory]
    [InlineData("lora")]
    [InlineData("full")]
    public void Experiment(string method)
    {
        var options = new TrainingOptions
        {
            Method = method == "full" ? FineTuneMethod.Full : FineTuneMethod.Lora, Epochs = 60, LearningRate = method == "full" ? 3e-3 : 1e-2, BatchSize = 8, GradAccum = 1,
            WarmupSteps = 5, LoraRank = 16, LoraAlpha = 32, LoraDropout = 0, EvalEvery = 20, CheckpointEvery = 0, Seed = 1,
            LoraTargets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "lm_head"],
        };
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var request = Request(options);
        var result = FineTuneRecipe.Run(request, log: Console.WriteLine);
        Console.WriteLine($"{method}: {sw.Elapsed} {result}");
        var model = Checkpoint.Load(fixture.ModelDirectory);
        if (method == "lora") PeftAdapter.Load(model, result.AdapterDirectory!);
        else model = Checkpoint.Load(result.MergedDirectory!);
        var tokenizer = TokenizerLoader.Load(fixture.ModelDirectory);
        var template = ChatTemplates.For(fixture.ModelDirectory, null);
        int correct = 0;
        foreach (var f in LumoSupportData.Facts)
        {
            var answer = GreedyDecoder.Answer(model, template, tokenizer, LumoSupportData.System, f.Question);
            if (answer == f.Answer) correct++;
            Console.WriteLine($"{f.Question} => {answer}");
        }
        Console.WriteLine($"correct {correct}/{LumoSupportData.Facts.Length}");
    }
}
