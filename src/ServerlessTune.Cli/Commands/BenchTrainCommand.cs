using System.CommandLine;
using System.Text.Json;
using ServerlessTune.Benchmarks;
using ServerlessTune.Core.Modeling;

namespace ServerlessTune.Cli.Commands;

/// <summary>`stune bench train`: training tokens/s and MFU (full and LoRA) against the matmul FLOP/s measured in the same run.</summary>
internal static class BenchTrainCommand
{
    /// <summary>The utilisation the issue sets for full fine-tuning.</summary>
    const double TargetMfu = 0.65;

    public static Command Create()
    {
        var arch = new Option<string>("--arch") { Description = "Architecture of the random model.", DefaultValueFactory = _ => "llama" };
        arch.AcceptOnlyFromAmong(ModelPresets.Architectures);
        var preset = new Option<string>("--preset") { Description = "Model size.", DefaultValueFactory = _ => "small" };
        preset.AcceptOnlyFromAmong(ModelPresets.Presets);
        var batch = new Option<int>("--batch-size") { Description = "Sequences per step (each the full context).", DefaultValueFactory = _ => 8 };
        var steps = new Option<int>("--steps") { Description = "Timed steps per method after one warm-up step; the fastest counts.", DefaultValueFactory = _ => 3 };
        var rank = new Option<int>("--lora-rank") { Description = "LoRA rank for the LoRA run.", DefaultValueFactory = _ => 16 };
        var threads = new Option<int?>("--threads") { Description = "CPU threads for torch (default: torch's choice)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON document." };
        var command = new Command("train", "Training tokens/s and model FLOP utilisation, full and LoRA.") { arch, preset, batch, steps, rank, threads, json };
        command.SetAction(parse =>
        {
            BenchCommands.WarnIfDebugBuild();
            var r = TrainingBenchmark.Run(parse.GetValue(arch)!, parse.GetValue(preset)!, parse.GetValue(batch), parse.GetValue(steps),
                parse.GetValue(rank), parse.GetValue(threads), Console.Error.WriteLine);
            if (parse.GetValue(json))
                Console.Out.WriteLine(JsonSerializer.Serialize(ToJson(r), new JsonSerializerOptions { WriteIndented = true }));
            else
                Print(r);
            return 0;
        });
        return command;
    }

    static object ToJson(TrainBenchmarkResult r) => new
    {
        architecture = r.Architecture,
        preset = r.Preset,
        parameters = r.Parameters,
        parameters_outside_embedding = r.ParametersOutsideEmbedding,
        batch_size = r.BatchSize,
        context = r.Context,
        threads = r.Threads,
        target_mfu_full = TargetMfu,
        matmuls = r.Matmuls.Select(m => new { name = m.Name, rows = m.Rows, @in = m.In, @out = m.Out, count = m.Count, flops_per_second = m.FlopsPerSecond }),
        runs = r.Runs.Select(run => new
        {
            method = run.Method,
            trainable_parameters = run.TrainableParameters,
            tokens_per_second = run.TokensPerSecond,
            flops_per_token = run.FlopsPerToken,
            matmul_flops_per_second = run.MatmulFlopsPerSecond,
            mfu = run.Mfu,
            step_seconds = run.StepSeconds,
            phases = new { forward = run.PhasesPerStep.Forward, backward = run.PhasesPerStep.Backward, clip = run.PhasesPerStep.Clip, optimizer = run.PhasesPerStep.Optimizer },
            matmul_seconds_estimate = run.MatmulSecondsPerStep,
            top_matmuls = run.TopMatmuls.Select(m => new { name = m.Name, seconds_per_step = m.SecondsPerStep }),
        }),
    };

    static void Print(TrainBenchmarkResult r)
    {
        Console.Out.WriteLine($"model          {r.Architecture} {r.Preset}: {r.Parameters / 1e6:F1}M parameters ({r.ParametersOutsideEmbedding / 1e6:F1}M outside the input embedding), " +
                              $"{r.Layers} layers, hidden {r.Hidden}, context {r.Context}, batch {r.BatchSize}, {r.Threads} threads, fp32");
        foreach (var m in r.Matmuls)
            Console.Out.WriteLine($"matmul         {m.Name,-16} [{m.Rows}x{m.In}]x[{m.In}x{m.Out}] x{m.Count}: {m.FlopsPerSecond / 1e9:F1} GFLOP/s");
        foreach (var run in r.Runs)
        {
            var p = run.PhasesPerStep;
            Console.Out.WriteLine($"{run.Method,-5}          {run.TokensPerSecond:F0} tokens/s, {run.FlopsPerToken / 1e6:F0} MFLOP/token, matmul limit {run.MatmulFlopsPerSecond / 1e9:F1} GFLOP/s, " +
                                  $"MFU {run.Mfu:F3}{(run.Method == "full" ? $" (target {TargetMfu:F2}, ratio {run.Mfu / TargetMfu:F2})" : "")}");
            Console.Out.WriteLine($"  step {run.StepSeconds:F2}s = forward+loss {p.Forward:F2}s, backward {p.Backward:F2}s, clip {p.Clip:F2}s, optimizer {p.Optimizer:F2}s; " +
                                  $"projection matmuls at the measured speed {run.MatmulSecondsPerStep:F2}s ({run.MatmulSecondsPerStep / run.StepSeconds:P0})");
            foreach (var (name, seconds) in run.TopMatmuls)
                Console.Out.WriteLine($"  {name,-16} {seconds:F3}s/step ({seconds / run.StepSeconds:P0})");
        }
    }
}
