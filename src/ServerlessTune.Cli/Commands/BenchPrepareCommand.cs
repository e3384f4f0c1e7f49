using System.CommandLine;
using System.Text.Json;
using ServerlessTune.Benchmarks;

namespace ServerlessTune.Cli.Commands;

/// <summary>`stune bench prepare`: end-to-end data preparation MB/s and peak memory, against raw tokenizer MB/s on the same text and workers.</summary>
internal static class BenchPrepareCommand
{
    public static Command Create()
    {
        var size = new Option<int>("--size-mb") { Description = "Size of the synthetic corpus.", DefaultValueFactory = _ => 512 };
        var tokenizer = new Option<string>("--tokenizer") { Description = "Tokenizer spec.", DefaultValueFactory = _ => "gpt2" };
        var seed = new Option<int>("--seed") { Description = "Corpus and split seed.", DefaultValueFactory = _ => 42 };
        var json = new Option<bool>("--json") { Description = "Print one JSON document." };
        var command = new Command("prepare", "Prepare a synthetic corpus (512 MB by default) and compare its throughput with the tokenizer's on the same workers.")
        {
            size, tokenizer, seed, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            BenchCommands.WarnIfDebugBuild();
            var r = await PrepareBenchmark.RunAsync(parse.GetValue(size), parse.GetValue(tokenizer)!, parse.GetValue(seed), Console.Error.WriteLine, cancellationToken);
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    corpus_bytes = r.CorpusBytes, lines = r.Lines, cores = r.Cores,
                    seconds = r.EndToEndSeconds, megabytes_per_second = r.EndToEndMegabytesPerSecond, cores_used = r.EndToEndCoresUsed,
                    peak_working_set_bytes = r.PeakWorkingSetBytes, baseline_working_set_bytes = r.BaselineWorkingSetBytes,
                    gc_pause_seconds = r.GcPauseSeconds, allocated_bytes = r.AllocatedBytes,
                    warm_up_passes = r.WarmUpPasses, jit_seconds = r.JitSeconds, jit_methods = r.JitMethods,
                    tokenizer_sample_bytes = r.TokenizerSampleBytes, tokenizer_workers = r.TokenizerWorkers, tokenizer_megabytes_per_second = r.TokenizerMegabytesPerSecond,
                    tokenizer_megabytes_per_second_before = r.TokenizerMegabytesPerSecondBefore, tokenizer_megabytes_per_second_after = r.TokenizerMegabytesPerSecondAfter,
                    tokenizer_cores_used = r.TokenizerCoresUsed,
                    ratio = r.Ratio, kept = r.Kept, rejected = r.Rejected, deduplicated = r.Deduplicated, filtered = r.Filtered, tokens = r.Tokens,
                }));
                return 0;
            }
            Console.Out.WriteLine($"corpus           {r.CorpusBytes / 1e6:F0} MB, {r.Lines} lines (kept {r.Kept}, rejected {r.Rejected}, duplicates {r.Deduplicated}, filtered {r.Filtered})");
            Console.Out.WriteLine($"end to end       {r.EndToEndMegabytesPerSecond:F1} MB/s ({r.EndToEndSeconds:F1} s, {r.EndToEndCoresUsed:F2} of {r.Cores} cores busy, {r.Tokens} tokens)");
            Console.Out.WriteLine($"peak memory      {r.PeakWorkingSetBytes / 1e6:F0} MB (before preparing {r.BaselineWorkingSetBytes / 1e6:F0} MB)");
            Console.Out.WriteLine($"garbage          {r.AllocatedBytes / 1e9:F1} GB allocated, {r.GcPauseSeconds:F2} s paused ({100 * r.GcPauseSeconds / r.EndToEndSeconds:F0} % of the run)");
            Console.Out.WriteLine($"jit              {r.JitMethods} methods compiled during the run, {r.JitSeconds:F2} s inside the JIT (wall time, all threads; after {r.WarmUpPasses} warm-up passes)");
            Console.Out.WriteLine($"tokenizer alone  {r.TokenizerMegabytesPerSecond:F1} MB/s ({r.TokenizerWorkers} worker(s), one tokenizer each, {r.TokenizerSampleBytes / 1e6:F0} MB of the same text: " +
                $"{r.TokenizerMegabytesPerSecondBefore:F1} before preparing, {r.TokenizerMegabytesPerSecondAfter:F1} after; {r.TokenizerCoresUsed:F2} cores busy)");
            Console.Out.WriteLine($"ratio            {r.Ratio:F2} (target 0.8)");
            return 0;
        });
        return command;
    }
}
