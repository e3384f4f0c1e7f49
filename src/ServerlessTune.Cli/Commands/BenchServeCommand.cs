using System.CommandLine;
using System.Text.Json;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Benchmarks;

namespace ServerlessTune.Cli.Commands;

/// <summary>`stune bench serve`: 1, 4 and 16 concurrent streaming clients through the real HTTP path on loopback.</summary>
internal static class BenchServeCommand
{
    public static Command Create()
    {
        var arch = new Option<string>("--arch") { Description = "Architecture of the random model.", DefaultValueFactory = _ => "llama" };
        arch.AcceptOnlyFromAmong(ModelPresets.Architectures);
        var preset = new Option<string>("--preset") { Description = "Model size (the one `stune bench generate` uses by default).", DefaultValueFactory = _ => "small" };
        preset.AcceptOnlyFromAmong(ModelPresets.Presets);
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "Prompt length.", DefaultValueFactory = _ => 32 };
        var tokens = new Option<int>("--tokens") { Description = "Tokens per streamed completion.", DefaultValueFactory = _ => 64 };
        var requests = new Option<int>("--requests") { Description = "Completions each client streams, one after another.", DefaultValueFactory = _ => 2 };
        var format = new FormatFlag("Weight format the server decodes with: fp32 (default), bf16 or int8.");
        var json = new Option<bool>("--json") { Description = "Print one JSON document." };
        var command = new Command("serve", "Aggregate tokens/s and latency of `stune serve` at 1, 4 and 16 streams, against one stream and the bandwidth bound.")
        {
            arch, preset, promptTokens, tokens, requests, format.Option, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            BenchCommands.WarnIfDebugBuild();
            var r = await ServeBenchmark.RunOnPresetAsync(parse.GetValue(arch)!, parse.GetValue(preset)!, parse.GetValue(promptTokens),
                parse.GetValue(tokens), [1, 4, 16], parse.GetValue(requests), Console.Error.WriteLine, ct,
                format.Value(parse) ?? WeightFormat.Fp32);
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    architecture = r.Architecture, preset = parse.GetValue(preset), format = r.Decode.Format.Name(), parameters = r.Parameters,
                    loads = r.Loads.Select(l => new
                    {
                        streams = l.Streams, requests = l.Requests, output_tokens = l.OutputTokens, output_tokens_per_second = l.OutputTokensPerSecond,
                        ttft_p50_seconds = l.TtftP50, ttft_p95_seconds = l.TtftP95, itl_p50_seconds = l.ItlP50, itl_p95_seconds = l.ItlP95,
                        decode_tokens_per_second = l.SingleStreamDecodeTokensPerSecond,
                    }),
                    bound_tokens_per_second = r.Decode.BoundTokensPerSecond, bench_generate_tokens_per_second = r.Decode.TokensPerSecond,
                    scaling_16_over_1 = r.Scaling, decode_over_bound = r.DecodeOverBound,
                }));
                return 0;
            }
            Console.Out.WriteLine($"model              {r.Architecture} {parse.GetValue(preset)}, {r.Parameters / 1e6:F1}M parameters, {r.Decode.Format.Name()} weights");
            foreach (var l in r.Loads)
                Console.Out.WriteLine($"{l.Streams,2} streams         {l.OutputTokensPerSecond,7:F1} output tokens/s  TTFT p50/p95 {l.TtftP50 * 1000:F0}/{l.TtftP95 * 1000:F0} ms  ITL p50/p95 {l.ItlP50 * 1000:F1}/{l.ItlP95 * 1000:F1} ms");
            Console.Out.WriteLine($"16 over 1 stream   {r.Scaling:F2} (target 4)");
            Console.Out.WriteLine($"decode over bound  {r.DecodeOverBound:F3} (one stream {r.Loads[0].SingleStreamDecodeTokensPerSecond:F1} tokens/s; bound {r.Decode.BoundTokensPerSecond:F1}; target 0.6)");
            return 0;
        });
        return command;
    }
}
