using System.CommandLine;
using System.Text.Json;
using ServerlessTune.Benchmarks;
using ServerlessTune.Core.Modeling;

namespace ServerlessTune.Cli.Commands;

/// <summary>`stune bench generate`: batch-1 decode tokens/s against the memory-bandwidth bound measured in the same run.</summary>
internal static class BenchGenerateCommand
{
    public static Command Create()
    {
        var arch = new Option<string>("--arch") { Description = "Architecture of the random model.", DefaultValueFactory = _ => "llama" };
        arch.AcceptOnlyFromAmong(ModelPresets.Architectures);
        var preset = new Option<string>("--preset") { Description = "Model size.", DefaultValueFactory = _ => "small" };
        preset.AcceptOnlyFromAmong(ModelPresets.Presets);
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "Prompt length.", DefaultValueFactory = _ => 32 };
        var tokens = new Option<int>("--tokens") { Description = "Tokens decoded per timed run.", DefaultValueFactory = _ => 64 };
        var threads = new Option<int?>("--threads") { Description = "CPU threads for torch (default: torch's choice)." };
        var format = new FormatFlag("Weight format for decoding: fp32 (default), bf16 or int8.");
        var json = new Option<bool>("--json") { Description = "Print one JSON document." };
        var command = new Command("generate", "Decode tokens/s of a small model against the memory-bandwidth bound.")
        {
            arch, preset, promptTokens, tokens, threads, format.Option, json,
        };
        command.SetAction(parse =>
        {
            BenchCommands.WarnIfDebugBuild();
            var (a, p) = (parse.GetValue(arch)!, parse.GetValue(preset)!);
            var r = DecodeBenchmark.RunOnPreset(a, p, parse.GetValue(promptTokens), parse.GetValue(tokens),
                parse.GetValue(threads), Console.Error.WriteLine, format.Value(parse) ?? WeightFormat.Fp32);
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    architecture = r.Architecture,
                    preset = p,
                    format = r.Format.Name(),
                    parameters = r.Parameters,
                    threads = r.Threads,
                    prompt_tokens = r.PromptTokens,
                    decoded_tokens = r.DecodedTokens,
                    tokens_per_second = r.TokensPerSecond,
                    bytes_per_token = r.WeightBytesPerToken,
                    read_bandwidth_bytes_per_second = r.ReadBandwidthBytesPerSecond,
                    bound_tokens_per_second = r.BoundTokensPerSecond,
                    matmul_seconds_per_token = r.MatmulSecondsPerToken,
                    matmul_share = r.MatmulShare,
                    ratio = r.Ratio,
                    prefill_tokens_per_second = r.PrefillTokensPerSecond,
                    prefill_bound_tokens_per_second = r.PrefillBoundTokensPerSecond,
                    prefill_ratio = r.PrefillRatio,
                }));
                return 0;
            }
            Console.Out.WriteLine($"model            {a} {p}, {r.Parameters / 1e6:F1}M parameters, {r.Format.Name()} weights, {r.Threads} threads");
            Console.Out.WriteLine($"decode           {r.TokensPerSecond:F1} tokens/s (batch 1, KV cache, {r.DecodedTokens} tokens after a {r.PromptTokens}-token prompt)");
            Console.Out.WriteLine($"weights read     {r.WeightBytesPerToken / 1e6:F1} MB per token");
            Console.Out.WriteLine($"read bandwidth   {r.ReadBandwidthBytesPerSecond / 1e9:F2} GB/s (best pass over a buffer the size of the weights)");
            Console.Out.WriteLine($"bound            {r.BoundTokensPerSecond:F1} tokens/s");
            Console.Out.WriteLine($"matmuls alone    {r.MatmulSecondsPerToken * 1000:F2} ms per token, {r.MatmulShare:P0} of a decoded token's time");
            Console.Out.WriteLine($"ratio            {r.Ratio:F3} (target 0.8)");
            Console.Out.WriteLine($"prefill          {r.PrefillTokensPerSecond:F0} tokens/s in one batched forward; its weight products alone {r.PrefillBoundTokensPerSecond:F0}; ratio {r.PrefillRatio:F3}");
            return 0;
        });
        return command;
    }
}
