using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Tokenization;
using ServerlessTune.Serving;

namespace ServerlessTune.Benchmarks;

/// <summary>One level of concurrency: aggregate output rate and latency percentiles over every stream.</summary>
public sealed record StreamLoad(int Streams, int Requests, long OutputTokens, double OutputTokensPerSecond,
    double TtftP50, double TtftP95, double ItlP50, double ItlP95, double SingleStreamDecodeTokensPerSecond);

public sealed record ServeBenchmarkResult(string Architecture, long Parameters, DecodeBenchmarkResult Decode, IReadOnlyList<StreamLoad> Loads)
{
    /// <summary>Aggregate output at the highest concurrency over one stream's (target at least 4).</summary>
    public double Scaling => Loads[^1].OutputTokensPerSecond / Loads[0].OutputTokensPerSecond;
    /// <summary>One stream's decode rate through HTTP over the weight-bandwidth bound of `stune bench generate` (target 0.6).</summary>
    public double DecodeOverBound => Loads[0].SingleStreamDecodeTokensPerSecond / Decode.BoundTokensPerSecond;
}

/// <summary>
/// `stune bench serve`: the server on loopback with the model `stune bench generate` uses, driven by 1, 4 and 16
/// concurrent streaming clients through the real HTTP path. The bound comes from the same run's read bandwidth over a buffer the size of the weights.
/// </summary>
public static class ServeBenchmark
{
    public static async Task<ServeBenchmarkResult> RunOnPresetAsync(string arch, string preset, int promptTokens, int tokens,
        int[] concurrency, int requestsPerStream, Action<string> log, CancellationToken ct, WeightFormat format = WeightFormat.Fp32)
    {
        var folder = Directory.CreateTempSubdirectory("stune-bench-serve-");
        try
        {
            log($"writing a random {arch} {preset} checkpoint to {folder.FullName}");
            ModelInitializer.Run(arch, preset, folder.FullName, seed: 0);
            DecodeBenchmarkResult decode;
            using (var model = Checkpoint.Load(folder.FullName))
            {
                model.ConvertWeights(format);
                decode = DecodeBenchmark.Run(model, TokenizerLoader.Load(folder.FullName), promptTokens, tokens, log: log);
            }
            log($"bench generate on the same model: {decode.TokensPerSecond:F1} tokens/s, bound {decode.BoundTokensPerSecond:F1}");

            var options = new ServingOptions
            {
                ModelFolder = folder.FullName, Format = format, Port = 0, Slots = concurrency.Max(), MaxContext = promptTokens + tokens + 1,
            }.Validated(out _);
            await using var app = await ServingApp.StartAsync(options, null, NullLoggerFactory.Instance, ct: ct);
            await app.Catalog.WaitUntilLoadedAsync(ct);
            using var http = new HttpClient { BaseAddress = app.Address, Timeout = TimeSpan.FromMinutes(10) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
            var vocab = TokenizerLoader.Load(folder.FullName).VocabSize;
            var name = Path.GetFileName(folder.FullName);
            // Warm-up, so tiered JIT is done before anything is timed (its recompiling otherwise took a fifth of a
            // two-core machine during the single-stream figure): its call counts promote a method after 30 calls,
            // so 40 short streams for the per-request code and two full-length ones for the per-token code.
            for (int w = 0; w < 42; w++) await StreamAsync(http, name, Prompt(1000 + w, promptTokens, vocab), w < 40 ? 4 : tokens, ct);
            var loads = new List<StreamLoad>();
            foreach (var streams in concurrency)
            {
                var clock = Stopwatch.StartNew();
                var runs = await Task.WhenAll(Enumerable.Range(0, streams).Select(async s =>
                {
                    var timings = new List<StreamTiming>();
                    for (int r = 0; r < requestsPerStream; r++)
                        timings.Add(await StreamAsync(http, name, Prompt(s * 31 + r, promptTokens, vocab), tokens, ct));
                    return timings;
                }));
                var elapsed = clock.Elapsed.TotalSeconds;
                var all = runs.SelectMany(t => t).ToList();
                long output = all.Sum(t => (long)t.Tokens);
                var gaps = all.SelectMany(t => t.Gaps).Order().ToArray();
                var ttft = all.Select(t => t.Ttft).Order().ToArray();
                var decodeRate = all.Where(t => t.Tokens > 1).Average(t => (t.Tokens - 1) / (t.End - t.Ttft));
                var load = new StreamLoad(streams, all.Count, output, output / elapsed, Percentile(ttft, 0.5), Percentile(ttft, 0.95),
                    Percentile(gaps, 0.5), Percentile(gaps, 0.95), decodeRate);
                log($"{streams,2} streams: {load.OutputTokensPerSecond:F1} output tokens/s, TTFT p50 {load.TtftP50 * 1000:F0} ms, ITL p50 {load.ItlP50 * 1000:F1} ms");
                loads.Add(load);
            }
            return new ServeBenchmarkResult(arch, decode.Parameters, decode, loads);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    sealed record StreamTiming(double Ttft, double End, int Tokens, IReadOnlyList<double> Gaps);

    /// <summary>One streamed completion: time to the first token, gaps between tokens, tokens counted by the server.</summary>
    static async Task<StreamTiming> StreamAsync(HttpClient http, string model, int[] prompt, int tokens, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = JsonContent.Create(new
            {
                model, prompt, max_tokens = tokens, temperature = 0, stream = true, stream_options = new { include_usage = true },
            }),
        };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        double? first = null, last = 0;
        var gaps = new List<double>();
        int count = 0;
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            if (line == "data: [DONE]") break;
            var chunk = JsonNode.Parse(line[6..])!;
            if (chunk["usage"] is { } usage) { count = (int)usage["completion_tokens"]!; continue; }
            var now = clock.Elapsed.TotalSeconds;
            if (first is null) first = now;
            else gaps.Add(now - last!.Value);
            last = now;
        }
        return new StreamTiming(first ?? 0, last ?? 0, count, gaps);
    }

    /// <summary>Distinct prompts of ordinary ids (none special), so streams do not share work by accident.</summary>
    static int[] Prompt(int seed, int length, int vocab) =>
        Enumerable.Range(0, length).Select(i => (int)((i * 7919L + seed * 104729L + 13) % Math.Min(vocab, 50000))).ToArray();

    static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
