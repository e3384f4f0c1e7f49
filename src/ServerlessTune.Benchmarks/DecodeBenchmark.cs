using System.Diagnostics;
using ServerlessTune.Core;
using ServerlessTune.Core.Generation;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Modeling.Layers;
using ServerlessTune.Core.Tokenization;
using static TorchSharp.torch;

namespace ServerlessTune.Benchmarks;

/// <summary>Decode speed against the memory-bandwidth bound measured in the same run.</summary>
public sealed record DecodeBenchmarkResult(
    string Architecture,
    long Parameters,
    int Threads,
    int PromptTokens,
    int DecodedTokens,
    double TokensPerSecond,
    long WeightBytesPerToken,
    double ReadBandwidthBytesPerSecond,
    double BoundTokensPerSecond,
    double MatmulSecondsPerToken)
{
    public double Ratio => TokensPerSecond / BoundTokensPerSecond;

    /// <summary>Share of a token's time that its weight products alone take; the rest is every other op and the loop.</summary>
    public double MatmulShare => MatmulSecondsPerToken * TokensPerSecond;
}

/// <summary>
/// Batch-1 decoding is memory bound: every new token reads every weight once, so it cannot beat
/// (read bandwidth / weight bytes) tokens per second. The limit is the time to read a buffer the size of the
/// weights with torch's threads (best of several passes, so the caches help the limit as much as the model),
/// and the decode rate comes from the real generator: the time of a run of N + 1 new tokens minus that
/// of a run of 1 (prompt pass and first token), over N. The weight products alone are timed too, to say how much
/// of a token is matmul and how much everything else.
/// </summary>
public static class DecodeBenchmark
{
    /// <summary>Writes a random-weight preset checkpoint to a temporary folder (as `stune model init`
    /// does), loads it back the way `stune generate` does, and measures it.</summary>
    public static DecodeBenchmarkResult RunOnPreset(string arch, string preset, int promptTokens, int decodeTokens,
        int? threads = null, Action<string>? log = null)
    {
        // Many tiny matmuls per token: on a busy machine one thread can beat two that wait on each other.
        if (threads is { } n)
        {
            if (n < 1) throw new UserInputException($"--threads must be at least 1 (got {n})");
            set_num_threads(n);
        }
        var folder = Directory.CreateTempSubdirectory("stune-bench-generate-");
        try
        {
            log?.Invoke($"writing a random {arch} {preset} checkpoint to {folder.FullName}");
            ModelInitializer.Run(arch, preset, folder.FullName, seed: 0);
            using var model = Checkpoint.Load(folder.FullName);
            return Run(model, TokenizerLoader.Load(folder.FullName), promptTokens, decodeTokens, log: log);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    public static DecodeBenchmarkResult Run(CausalLM model, ITextTokenizer tokenizer, int promptTokens, int decodeTokens,
        int repeats = 3, Action<string>? log = null)
    {
        if (promptTokens < 1 || decodeTokens < 1 || promptTokens + decodeTokens + 1 > model.Config.MaxPositions)
            throw new UserInputException(
                $"prompt tokens ({promptTokens}) and decoded tokens ({decodeTokens}) must be at least 1 and, plus one, fit the model's context of {model.Config.MaxPositions}");
        // No end tokens: a random model must not stop early and shorten the timed run.
        var generator = new TextGenerator(model, tokenizer, []);
        var prompt = Enumerable.Range(0, promptTokens).Select(i => (i * 7919 + 13) % tokenizer.VocabSize).ToArray();
        var options = new GenerationOptions { MaxNewTokens = decodeTokens + 1 };

        log?.Invoke("warm-up");
        generator.Generate([prompt], options with { MaxNewTokens = 8 });
        var perToken = double.MaxValue;
        for (int i = 0; i < repeats; i++)
        {
            var first = Time(() => generator.Generate([prompt], options with { MaxNewTokens = 1 }));
            var full = Time(() => generator.Generate([prompt], options));
            perToken = Math.Min(perToken, (full - first) / decodeTokens);
            log?.Invoke($"decode run {i + 1}: {1 / ((full - first) / decodeTokens):F1} tokens/s");
        }

        var bytesPerToken = WeightBytesReadPerToken(model);
        var bandwidth = ReadBandwidth(bytesPerToken, repeats + 2);
        log?.Invoke($"read bandwidth {bandwidth / 1e9:F2} GB/s over {bytesPerToken / 1e6:F0} MB");
        var matmul = MatmulSeconds(model, repeats + 2);
        log?.Invoke($"weight products alone {matmul * 1000:F2} ms per token");
        return new DecodeBenchmarkResult(model.Config.ModelType, model.ParameterCount(), get_num_threads(), promptTokens, decodeTokens,
            1 / perToken, bytesPerToken, bandwidth, bandwidth / bytesPerToken, matmul);
    }

    /// <summary>
    /// Bytes of weights one decode step reads: every parameter once, except that an embedding lookup
    /// reads one row (position tables, and the token table unless it doubles as the output projection).
    /// </summary>
    public static long WeightBytesReadPerToken(CausalLM model)
    {
        var total = model.parameters().Sum(p => p.numel() * p.element_size());
        var tables = model.modules().OfType<EmbeddingLayer>().Select(e => e.Weight).ToList();
        var lookups = tables.Sum(w => w.numel() * w.element_size() - w.shape[1] * w.element_size());
        if (model.Config.TieWordEmbeddings)
        {
            var tokenTable = tables.First(w => w.shape[0] == model.Config.VocabSize);
            lookups -= (tokenTable.shape[0] - 1) * tokenTable.shape[1] * tokenTable.element_size();
        }
        return total - lookups;
    }

    /// <summary>Best of several passes reading a buffer of <paramref name="bytes"/> (a sum: one read of every byte, no write).</summary>
    public static double ReadBandwidth(long bytes, int passes)
    {
        using var inference = inference_mode();
        using var buffer = ones(bytes / sizeof(float), ScalarType.Float32);
        var best = double.MaxValue;
        for (int i = 0; i < passes; i++)
            best = Math.Min(best, Time(() => buffer.sum().Dispose()));
        return buffer.numel() * sizeof(float) / best;
    }

    /// <summary>
    /// Best time of every weight product of one decode step, each on one vector, back to back: each projection
    /// as its own product, and a tied head through the embedding table. What a token would cost if nothing but
    /// its matmuls ran.
    /// </summary>
    public static double MatmulSeconds(CausalLM model, int passes)
    {
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        var products = new List<Func<Tensor>>();
        foreach (var (_, layer) in model.Projections())
        {
            var x = zeros(1, 1, layer.InFeatures, model.DType);
            products.Add(() => layer.forward(x));
        }
        if (model.Config.TieWordEmbeddings)
        {
            var table = model.modules().OfType<EmbeddingLayer>().First(e => e.Weight.shape[0] == model.Config.VocabSize).Weight;
            var x = zeros(1, 1, table.shape[1], model.DType);
            products.Add(() => nn.functional.linear(x, table));
        }
        var best = double.MaxValue;
        for (int i = 0; i < passes; i++)
            best = Math.Min(best, Time(() =>
            {
                foreach (var product in products) product().Dispose();
            }));
        return best;
    }

    static double Time(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }
}
