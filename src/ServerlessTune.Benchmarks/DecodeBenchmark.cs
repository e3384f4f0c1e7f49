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
    WeightFormat Format,
    long Parameters,
    int Threads,
    int PromptTokens,
    int DecodedTokens,
    double TokensPerSecond,
    long WeightBytesPerToken,
    double ReadBandwidthBytesPerSecond,
    double BoundTokensPerSecond,
    double MatmulSecondsPerToken,
    double PrefillTokensPerSecond,
    double PrefillMatmulSeconds)
{
    public double Ratio => TokensPerSecond / BoundTokensPerSecond;

    /// <summary>Prompt tokens per second if the prompt pass were nothing but its weight products.</summary>
    public double PrefillBoundTokensPerSecond => PromptTokens / PrefillMatmulSeconds;

    public double PrefillRatio => PrefillTokensPerSecond / PrefillBoundTokensPerSecond;

    /// <summary>Share of a token's time that its weight products alone take; the rest is every other op and the loop.</summary>
    public double MatmulShare => MatmulSecondsPerToken * TokensPerSecond;
}

/// <summary>
/// Batch-1 decoding is memory bound: every new token reads every weight once, so it cannot beat
/// (read bandwidth / weight bytes) tokens per second. The limit is the time to read a buffer the size of the
/// weights with torch's threads (best of several passes, so the caches help the limit as much as the model),
/// and the decode rate comes from the real generator: the time of a run of N + 1 new tokens minus that
/// of a run of 1 (prompt pass and first token), over N. The weight products alone are timed too, to say how much
/// of a token is matmul and how much everything else. The weights are read in the model's <see cref="WeightFormat"/>,
/// so bytes per token and the limit follow the format. Prefill (the prompt in one batched forward) is timed
/// against the same products over the prompt's rows.
/// </summary>
public static class DecodeBenchmark
{
    /// <summary>Writes a random-weight preset checkpoint to a temporary folder (as `stune model init`
    /// does), loads it back the way `stune generate` does, and measures it.</summary>
    public static DecodeBenchmarkResult RunOnPreset(string arch, string preset, int promptTokens, int decodeTokens,
        int? threads = null, Action<string>? log = null, WeightFormat format = WeightFormat.Fp32)
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
            model.ConvertWeights(format);
            return Run(model, TokenizerLoader.Load(folder.FullName), promptTokens, decodeTokens, log: log);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    public static DecodeBenchmarkResult Run(CausalLM model, ITextTokenizer tokenizer, int promptTokens, int decodeTokens,
        int repeats = 5, Action<string>? log = null)
    {
        if (promptTokens < 1 || decodeTokens < 1 || promptTokens + decodeTokens + 1 > model.Config.MaxPositions)
            throw new UserInputException(
                $"prompt tokens ({promptTokens}) and decoded tokens ({decodeTokens}) must be at least 1 and, plus one, fit the model's context of {model.Config.MaxPositions}");
        // No end tokens: a random model must not stop early and shorten the timed run.
        var generator = new TextGenerator(model, tokenizer, []);
        var prompt = Enumerable.Range(0, promptTokens).Select(i => (i * 7919 + 13) % tokenizer.VocabSize).ToArray();
        var options = new GenerationOptions { MaxNewTokens = decodeTokens + 1 };

        // Until tiered compilation has promoted the decode loop's methods (it recompiles hot methods in the background
        // after their first 30 calls), a run measures the JIT, not the decode. One second was enough on the first
        // development machine; on a second one (2 cores of an older EPYC) the three runs after it were still 10-40 %
        // slower than the later ones (twelve int8 runs: 180-224, then 236-264 tokens/s), so three.
        log?.Invoke("warm-up");
        var warmUp = Stopwatch.StartNew();
        do generator.Generate([prompt], options);
        while (warmUp.Elapsed < TimeSpan.FromSeconds(3));
        // A run's decode is the full run less the prompt pass and first token, whose best time over every run stands
        // for it: subtracting each run's own, a prompt pass slowed by the machine made a run look faster than its
        // weights can be read (an int8 run here "decoded" at 1.6x what its products alone allow).
        var firsts = new double[repeats];
        var fulls = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            firsts[i] = Time(() => generator.Generate([prompt], options with { MaxNewTokens = 1 }));
            fulls[i] = Time(() => generator.Generate([prompt], options));
        }
        var perToken = (fulls.Min() - firsts.Min()) / decodeTokens;
        for (int i = 0; i < repeats; i++)
            log?.Invoke($"decode run {i + 1}: {decodeTokens / (fulls[i] - firsts.Min()):F1} tokens/s");

        var prefill = double.MaxValue;
        for (int i = 0; i < repeats + 2; i++)
            prefill = Math.Min(prefill, Time(() => Prefill(model, prompt)));
        var prefillMatmul = PrefillMatmulSeconds(model, promptTokens, repeats + 2);
        log?.Invoke($"prefill {promptTokens / prefill:F0} tokens/s; its weight products alone {promptTokens / prefillMatmul:F0} tokens/s");

        var bytesPerToken = WeightBytesReadPerToken(model);
        var bandwidth = ReadBandwidth(bytesPerToken, repeats + 2);
        log?.Invoke($"read bandwidth {bandwidth / 1e9:F2} GB/s over {bytesPerToken / 1e6:F0} MB");
        var matmul = MatmulSeconds(model, repeats + 2);
        log?.Invoke($"weight products alone {matmul * 1000:F2} ms per token");
        return new DecodeBenchmarkResult(model.Config.ModelType, model.WeightFormat, model.ParameterCount(), get_num_threads(), promptTokens, decodeTokens,
            1 / perToken, bytesPerToken, bandwidth, bandwidth / bytesPerToken, matmul, promptTokens / prefill, prefillMatmul);
    }

    /// <summary>The prompt pass as the generator runs it: one forward over every prompt token, logits of the last.</summary>
    static void Prefill(CausalLM model, int[] prompt)
    {
        using var inference = inference_mode();
        using var cache = model.NewCache();
        using var input = tensor(prompt.Select(id => (long)id).ToArray(), 1, prompt.Length);
        model.NextTokenLogits(input, null, cache).Dispose();
    }

    /// <summary>
    /// Bytes of weights one decode step reads: every parameter once, except that an embedding lookup
    /// reads one row (position tables, and the token table unless it doubles as the output projection).
    /// A product packed in a narrower format reads its packed bytes (int8 with its scales) instead of fp32.
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
        var narrowed = model.PackedWeights().Sum(p => (long)p.InFeatures * p.OutFeatures * sizeof(float) - p.Bytes);
        return total - lookups - narrowed;
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
    /// Best time of every weight product of one decode step, each on one vector, back to back: the products the
    /// model runs (fused ones once, a tied head through the embedding table) in its format. What a token would
    /// cost if nothing but its matmuls ran.
    /// </summary>
    public static double MatmulSeconds(CausalLM model, int passes)
    {
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        var products = new List<Func<Tensor>>();
        foreach (var packed in model.PackedWeights())
        {
            var x = zeros(1, 1, packed.InFeatures);
            products.Add(() => packed.Forward(x));
        }
        // Products the kernel does not read (GPT-2's Conv1D layout in fp32) run on torch.
        foreach (var (_, layer) in model.Projections().Where(p => p.Layer.Packed is null && !p.Layer.InFusedProduct))
        {
            var x = zeros(1, 1, layer.InFeatures, model.DType);
            products.Add(() => layer.forward(x));
        }
        return Best(products, passes);
    }

    /// <summary>
    /// Best time of the prompt pass's weight products alone: every body projection over <paramref name="rows"/>
    /// rows through torch (as prefill runs them; fused parts timed separately), and the head over the last row.
    /// </summary>
    public static double PrefillMatmulSeconds(CausalLM model, int rows, int passes)
    {
        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        var products = new List<Func<Tensor>>();
        var head = model.Projections().Where(p => p.Name == "lm_head").Select(p => p.Layer).SingleOrDefault();
        foreach (var (_, layer) in model.Projections().Where(p => p.Layer != head))
        {
            var x = zeros(1, rows, layer.InFeatures, model.DType);
            var weight = layer.Weight;
            products.Add(layer.IsConv1D ? () => matmul(x, weight) : () => nn.functional.linear(x, weight));
        }
        var last = zeros(1, 1, model.Config.HiddenSize, model.DType);
        if (head is not null) products.Add(() => head.forward(last));
        else if (model.PackedWeights().LastOrDefault(p => p.OutFeatures == model.Config.VocabSize) is { } tied) products.Add(() => tied.Forward(last));
        return Best(products, passes);
    }

    static double Best(List<Func<Tensor>> products, int passes)
    {
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
