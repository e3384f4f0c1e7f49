using System.Diagnostics;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Training;
using ServerlessTune.Core.Modeling.Peft;
using TorchSharp;
using static TorchSharp.torch;

namespace ServerlessTune.Benchmarks;

/// <summary>One projection shape: its measured fp32 matmul speed at the training batch's row count.</summary>
public sealed record MatmulShape(string Name, long Rows, long In, long Out, int Count, double SecondsPerCall, double FlopsPerSecond);

public sealed record TrainBenchmarkRun(
    string Method, long TrainableParameters, double FlopsPerToken, double TokensPerSecond, double MatmulFlopsPerSecond,
    double Mfu, double StepSeconds, StepPhaseTimes PhasesPerStep, IReadOnlyList<(string Name, double SecondsPerStep)> TopMatmuls,
    double MatmulSecondsPerStep);

public sealed record TrainBenchmarkResult(
    string Architecture, string Preset, long Parameters, long ParametersOutsideEmbedding, int Layers, int Hidden, int Context,
    int BatchSize, int Threads, IReadOnlyList<MatmulShape> Matmuls, IReadOnlyList<TrainBenchmarkRun> Runs);

/// <summary>
/// Training throughput and model FLOP utilisation (MFU) of a random preset model, full and LoRA.
/// Model FLOPs per token: 6 N (full) or 4 N (LoRA: frozen weights get no weight gradient) plus 12 L T H for
/// attention, where N counts the parameters outside the input embedding table (the output projection
/// included even when tied, since its matmul runs). The limit is the fp32 matmul FLOP/s of the model's own
/// projection shapes, measured in this process just before and just after each run (the faster of the two).
/// </summary>
public static class TrainingBenchmark
{
    /// <summary>GPT-2's vocabulary, the size the product's default tokenizer gives a new model.</summary>
    public const int VocabSize = 50257;

    public static TrainBenchmarkResult Run(string arch, string preset, int batchSize, int steps, int loraRank, int? threads, Action<string> log)
    {
        if (threads is { } t) set_num_threads(t);
        var config = ModelPresets.Create(arch, preset, VocabSize);
        manual_seed(1);
        var model = CausalLMFactory.Create(config, seed: 1);
        model.train();
        long total = model.parameters().DistinctBy(p => p.Handle).Sum(p => p.numel());
        long embedding = (long)config.VocabSize * config.HiddenSize;
        long outsideEmbedding = total - embedding + (config.TieWordEmbeddings ? embedding : 0);
        int context = config.MaxPositions;
        double attention = 12.0 * config.NumLayers * context * config.HiddenSize;
        log($"{arch} {preset}: {total / 1e6:F1}M parameters, {outsideEmbedding / 1e6:F1}M outside the input embedding, batch {batchSize} x {context}, {get_num_threads()} threads");

        using var batch = RandomBatch(config.VocabSize, batchSize, context);
        var shapes = Shapes(model, config, batchSize * context);
        var runs = new List<TrainBenchmarkRun>();
        var measured = new List<MatmulShape>();

        foreach (var method in new[] { FineTuneMethod.Full, FineTuneMethod.Lora })
        {
            var trainable = method == FineTuneMethod.Full
                ? model.named_parameters().DistinctBy(p => p.parameter.Handle).Select(p => (p.name, p.parameter)).ToList()
                : LoraInjector.Attach(model, ResolvedTrainingOptions.DefaultLoraTargets(arch), loraRank, 2.0 * loraRank, 0.0);
            var optimizer = OptimizerFactory.Create(trainable, 1e-4, 0.01);
            var parameters = trainable.Select(p => p.Parameter).ToList();
            var before = shapes.Select(s => Measure(s.Name, s.Rows, s.In, s.Out, s.Count)).ToList();

            TrainingStep.Run(model, [batch], optimizer, parameters, 1e-4, 1.0);
            // The fastest step, like the fastest matmul: on a shared machine the minimum is the stable figure.
            var phases = Enumerable.Range(0, steps).Select(_ =>
            {
                var times = new StepPhaseTimes();
                TrainingStep.Run(model, [batch], optimizer, parameters, 1e-4, 1.0, times);
                return times;
            }).MinBy(t => t.Total)!;
            double stepSeconds = phases.Total;
            // Measured again after the steps, keeping each shape's faster figure: a limit taken while another
            // process briefly held the cores would flatter the utilisation.
            measured = before.Zip(shapes.Select(s => Measure(s.Name, s.Rows, s.In, s.Out, s.Count)), (a, b) => a.SecondsPerCall <= b.SecondsPerCall ? a : b).ToList();
            double limit = measured.Sum(m => 2.0 * m.Rows * m.In * m.Out * m.Count) / measured.Sum(m => m.SecondsPerCall * m.Count);

            double tokensPerSecond = batch.RealTokens / stepSeconds;
            double flopsPerToken = (method == FineTuneMethod.Full ? 6.0 : 4.0) * outsideEmbedding + attention;
            // forward, input gradient, and the weight gradient for weights that train
            int callsPerStep = method == FineTuneMethod.Full ? 3 : 2;
            var top = measured.Select(m => (m.Name, SecondsPerStep: m.SecondsPerCall * m.Count * callsPerStep))
                .OrderByDescending(m => m.SecondsPerStep).ToList();
            runs.Add(new TrainBenchmarkRun(method.ToString().ToLowerInvariant(), parameters.Sum(p => p.numel()), flopsPerToken, tokensPerSecond, limit,
                flopsPerToken * tokensPerSecond / limit, stepSeconds, phases, top.Take(5).ToList(), top.Sum(m => m.SecondsPerStep)));
            log($"{method}: {tokensPerSecond:F0} tokens/s, MFU {runs[^1].Mfu:F3}");
        }
        return new TrainBenchmarkResult(arch, preset, total, outsideEmbedding, config.NumLayers, config.HiddenSize, context,
            batchSize, get_num_threads(), measured, runs);
    }

    static TrainingBatch RandomBatch(int vocab, int rows, int context)
    {
        using var generator = new torch.Generator(7);
        using var ids = randint(vocab, [rows, context + 1], generator: generator);
        var data = ids.data<long>().ToArray();
        var examples = Enumerable.Range(0, rows).Select(r => new TrainingExample("bench", r + 1,
            data.Skip(r * (context + 1)).Take(context + 1).Select(v => (int)v).ToArray(), Enumerable.Repeat(true, context + 1).ToArray())).ToList();
        return BatchCollator.Collate(examples, 0);
    }

    /// <summary>Distinct projection shapes with how many times each runs per forward pass.</summary>
    static List<(string Name, long Rows, long In, long Out, int Count)> Shapes(CausalLM model, ModelConfig config, long rows)
    {
        var shapes = model.Projections()
            .GroupBy(p => (p.Layer.InFeatures, p.Layer.OutFeatures, Name: p.Name.Split('.')[^1]))
            .Select(g => (g.Key.Name, rows, g.Key.InFeatures, g.Key.OutFeatures, g.Count()))
            .ToList();
        if (config.TieWordEmbeddings)
            shapes.Add(("lm_head (tied)", rows, config.HiddenSize, config.VocabSize, 1));
        return shapes;
    }

    static MatmulShape Measure(string name, long rows, long inFeatures, long outFeatures, int count)
    {
        using var generator = new torch.Generator(3);
        using var x = randn([rows, inFeatures], generator: generator);
        using var w = randn([outFeatures, inFeatures], generator: generator);
        using (nn.functional.linear(x, w)) { }
        double flops = 2.0 * rows * inFeatures * outFeatures;
        int reps = (int)Math.Clamp(4e9 / flops, 3, 50);
        double seconds = double.MaxValue;
        for (int i = 0; i < reps; i++)
        {
            var clock = Stopwatch.StartNew();
            using (nn.functional.linear(x, w)) { }
            seconds = Math.Min(seconds, clock.Elapsed.TotalSeconds);
        }
        return new MatmulShape(name, rows, inFeatures, outFeatures, count, seconds, flops / seconds);
    }
}
