using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;
using ServerlessTune.Core.Training;

namespace ServerlessTune.Cli.Commands;

/// <summary>`stune train`: LoRA or full fine-tuning of a model folder on prepared data (FineTuneRecipe does the work).</summary>
internal static class TrainCommands
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Base model folder (Hugging Face layout).", Required = true };
        var data = new Option<string>("--data") { Description = "Prepared data folder with train.jsonl and validation.jsonl.", Required = true };
        var output = new Option<string>("--out") { Description = "Run folder: metrics.jsonl, checkpoints/, adapter/, merged/.", Required = true };
        var config = new Option<string?>("--config") { Description = "JSON file of hyperparameters (snake_case flag names); flags override it." };
        var resume = new Option<bool>("--resume") { Description = "Continue from the latest complete checkpoint in --out." };
        var merge = new Option<bool>("--merge") { Description = "Also write merged/: the base with the adapter folded in." };
        var full = new Option<bool>("--full") { Description = "Full fine-tuning instead of LoRA." };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON document." };
        var chatTemplate = new Option<string?>("--chat-template") { Description = "Override the chat template (chatml, llama2, llama3, phi3, zephyr, plain)." };
        var epochs = new Option<int?>("--epochs") { Description = "Passes over the training data (default 3)." };
        var learningRate = new Option<double?>("--learning-rate") { Description = "Peak learning rate (default 2e-4 LoRA, 2e-5 full)." };
        var batchSize = new Option<int?>("--batch-size") { Description = "Conversations per micro-batch (default 4)." };
        var gradAccum = new Option<int?>("--grad-accum") { Description = "Micro-batches per optimizer step (default 4)." };
        var maxSteps = new Option<int?>("--max-steps") { Description = "Stop after this many optimizer steps." };
        var warmupSteps = new Option<int?>("--warmup-steps") { Description = "Linear warmup steps (default 10)." };
        var lrSchedule = new Option<string?>("--lr-schedule") { Description = "constant, linear or cosine (default cosine)." };
        lrSchedule.AcceptOnlyFromAmong("constant", "linear", "cosine");
        var weightDecay = new Option<double?>("--weight-decay") { Description = "AdamW decoupled weight decay on matrices (default 0 LoRA, 0.01 full)." };
        var maxGradNorm = new Option<double?>("--max-grad-norm") { Description = "Gradient-norm clipping, 0 = off (default 1.0)." };
        var loraRank = new Option<int?>("--lora-rank") { Description = "LoRA rank r (default 16)." };
        var loraAlpha = new Option<double?>("--lora-alpha") { Description = "LoRA alpha (default 2 r)." };
        var loraDropout = new Option<double?>("--lora-dropout") { Description = "Dropout on the LoRA input (default 0.05)." };
        var loraTargets = new Option<string[]?>("--lora-targets")
        {
            Description = "Projection names to adapt, comma-separated (default q_proj,v_proj; c_attn for gpt2; qkv_proj for phi3).",
            AllowMultipleArgumentsPerToken = true,
        };
        var evalEvery = new Option<int?>("--eval-every") { Description = "Optimizer steps between validations, 0 = only at the end (default 50)." };
        var patience = new Option<int?>("--early-stopping-patience") { Description = "Stop after this many validations without improvement and keep the best weights, 0 = off." };
        var checkpointEvery = new Option<int?>("--checkpoint-every") { Description = "Optimizer steps between checkpoints, 0 = only on interruption and at the end (default 100)." };
        var seed = new Option<int?>("--seed") { Description = "Seed for adapter init, dropout and data order (default 42)." };
        var maxLength = new Option<int?>("--max-length") { Description = "Longest conversation in tokens (default: the model's context)." };
        var precision = new Option<string?>("--precision") { Description = "Weights in fp32 or bf16 (default fp32)." };
        precision.AcceptOnlyFromAmong("fp32", "bf16");
        var threads = new Option<int?>("--threads") { Description = "CPU threads for torch." };

        var command = new Command("train", "Fine-tune a model (LoRA or full) on prepared chat data.")
        {
            model, data, output, config, resume, merge, full, json, chatTemplate, epochs, learningRate, batchSize, gradAccum, maxSteps,
            warmupSteps, lrSchedule, weightDecay, maxGradNorm, loraRank, loraAlpha, loraDropout, loraTargets, evalEvery, patience,
            checkpointEvery, seed, maxLength, precision, threads,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(full) && result.GetResult(loraRank) is not null)
                result.AddError("--full and --lora-rank cannot be combined: full fine-tuning has no adapter rank");
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var fromFlags = new TrainingOptions
            {
                Method = parse.GetValue(full) ? FineTuneMethod.Full : parse.GetResult(loraRank) is not null ? FineTuneMethod.Lora : null,
                Epochs = parse.GetValue(epochs),
                LearningRate = parse.GetValue(learningRate),
                BatchSize = parse.GetValue(batchSize),
                GradAccum = parse.GetValue(gradAccum),
                MaxSteps = parse.GetValue(maxSteps),
                WarmupSteps = parse.GetValue(warmupSteps),
                LrSchedule = parse.GetValue(lrSchedule) is { } s ? Enum.Parse<LrScheduleKind>(s, ignoreCase: true) : null,
                WeightDecay = parse.GetValue(weightDecay),
                MaxGradNorm = parse.GetValue(maxGradNorm),
                LoraRank = parse.GetValue(loraRank),
                LoraAlpha = parse.GetValue(loraAlpha),
                LoraDropout = parse.GetValue(loraDropout),
                LoraTargets = parse.GetValue(loraTargets)?.SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList(),
                EvalEvery = parse.GetValue(evalEvery),
                EarlyStoppingPatience = parse.GetValue(patience),
                CheckpointEvery = parse.GetValue(checkpointEvery),
                Seed = parse.GetValue(seed),
                MaxLength = parse.GetValue(maxLength),
                Precision = parse.GetValue(precision) is { } p ? Enum.Parse<WeightPrecision>(p, ignoreCase: true) : null,
                Threads = parse.GetValue(threads),
            };
            var options = parse.GetValue(config) is { } file ? TrainingOptions.Load(file).With(fromFlags) : fromFlags;
            var request = new FineTuneRequest
            {
                ModelDirectory = parse.GetValue(model)!,
                DataDirectory = parse.GetValue(data)!,
                OutputDirectory = parse.GetValue(output)!,
                Options = options,
                Resume = parse.GetValue(resume),
                Merge = parse.GetValue(merge),
                ChatTemplate = parse.GetValue(chatTemplate),
            };
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            // SIGTERM is what a container runtime or spot eviction sends: finish the step and checkpoint instead of dying.
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            var printer = new TrainingProgressPrinter(Console.Error);
            var result = await Task.Run(() => FineTuneRecipe.Run(request, printer, m => printer.Log(m), stop.Token), CancellationToken.None);
            printer.Finish();
            if (parse.GetValue(json))
                Console.Out.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true }));
            else
                WriteSummary(result);
            return result.Interrupted ? 130 : 0;
        });
        return command;
    }

    static void WriteSummary(FineTuneResult result)
    {
        Console.Out.WriteLine($"steps: {result.Steps}/{result.TotalSteps}{(result.Interrupted ? " (interrupted, resume with --resume)" : result.StoppedEarly ? " (stopped early)" : "")}");
        if (result.TrainLoss is { } loss) Console.Out.WriteLine($"train loss: {loss:F4}");
        if (result.ValLoss is { } val) Console.Out.WriteLine($"validation loss: {val:F4}");
        if (result.AdapterDirectory is { } adapter) Console.Out.WriteLine($"adapter: {adapter}");
        if (result.MergedDirectory is { } merged) Console.Out.WriteLine($"merged: {merged}");
    }
}

/// <summary>Progress on stderr: one rewritten line in a terminal, a line per tenth of the run in CI or when redirected.</summary>
internal sealed class TrainingProgressPrinter(TextWriter error) : IProgress<TrainingProgress>
{
    readonly bool live = !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("CI") is null;
    bool lineOpen;

    public void Report(TrainingProgress p)
    {
        if (live)
        {
            error.Write("\r" + p.ToString().PadRight(100));
            lineOpen = true;
        }
        else if (p.IsMilestone)
        {
            error.WriteLine(p);
        }
    }

    public void Log(string message)
    {
        Finish();
        error.WriteLine(message);
    }

    public void Finish()
    {
        if (!lineOpen) return;
        error.WriteLine();
        lineOpen = false;
    }
}
