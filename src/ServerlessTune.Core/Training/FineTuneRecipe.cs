using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Modeling.Peft;
using ServerlessTune.Core.Tokenization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Training;

public sealed record FineTuneRequest
{
    public required string ModelDirectory { get; init; }
    /// <summary>A prepared-data folder holding train.jsonl (and validation.jsonl).</summary>
    public required string DataDirectory { get; init; }
    /// <summary>The run folder: metrics.jsonl, checkpoints/, adapter/, merged/.</summary>
    public required string OutputDirectory { get; init; }
    public TrainingOptions Options { get; init; } = new();
    /// <summary>Continue from the latest complete checkpoint in the run folder (fresh start if there is none).</summary>
    public bool Resume { get; init; }
    /// <summary>Also write merged/: the base with the adapter folded in, as a Hugging Face checkpoint.</summary>
    public bool Merge { get; init; }
    /// <summary>A chat template name overriding the one tokenizer_config.json implies.</summary>
    public string? ChatTemplate { get; init; }
    /// <summary>Called with each checkpoint folder once it is complete (the container job uploads it).</summary>
    public Action<string>? OnCheckpoint { get; init; }
}

public sealed record FineTuneResult(
    int Steps, int TotalSteps, double? TrainLoss, double? ValLoss, double? BestValLoss, int? BestStep,
    bool Interrupted, bool StoppedEarly, long TrainableParameters, long TotalParameters,
    string? AdapterDirectory, string? MergedDirectory, double ElapsedSeconds);

public sealed record TrainingProgress(int Step, int TotalSteps, double Epoch, double Loss, double LearningRate,
    double TokensPerSecond, TimeSpan Elapsed, TimeSpan? Remaining)
{
    /// <summary>Every tenth of the run and its last step: what line-based logs (CI, containers) print.</summary>
    public bool IsMilestone => Step == TotalSteps || Step % Math.Max(1, TotalSteps / 10) == 0;

    public override string ToString() =>
        $"step {Step}/{TotalSteps}  epoch {Epoch:F2}  loss {Loss:F4}  lr {LearningRate:G3}  {TokensPerSecond:F0} tok/s  ETA {Remaining:hh\\:mm\\:ss}";
}

/// <summary>
/// The fine-tuning recipe: wires the reusable components (settings, data, LoRA, AdamW, schedule,
/// accumulation, checkpoints, metrics, PEFT output) into one resumable run. Every check that can fail on
/// user input runs before step 1. Cancellation (Ctrl-C, SIGTERM) finishes the current step, writes a
/// checkpoint and returns with <see cref="FineTuneResult.Interrupted"/> set.
/// </summary>
public static class FineTuneRecipe
{
    static readonly string[] TokenizerFileNames =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt", "tokenizer.model", "added_tokens.json"];

    public static FineTuneResult Run(FineTuneRequest request, IProgress<TrainingProgress>? progress = null,
        Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        log ??= _ => { };
        var config = ModelConfig.Load(request.ModelDirectory);
        var settings = ResolvedTrainingOptions.Resolve(request.Options, config.ModelType);
        string outDir = request.OutputDirectory;
        Directory.CreateDirectory(outDir);
        var checkpoints = new TrainingCheckpoints(outDir);
        string? resumeFrom = request.Resume ? checkpoints.Latest() : null;
        if (!request.Resume && checkpoints.Latest() is { } existing)
            throw new UserInputException($"{outDir}: already holds checkpoints ({Path.GetFileName(existing)}); pass --resume to continue that run or choose another --out");
        string fingerprint = Fingerprint(settings, request);
        var resumeState = resumeFrom is null ? null : TrainingCheckpoints.ReadState(resumeFrom);
        if (resumeState is not null && resumeState.SettingsFingerprint != fingerprint)
            throw new UserInputException($"{resumeFrom}: was written with other settings, model or data; resume with the same ones or choose another --out");

        var tokenizer = TokenizerLoader.Load(request.ModelDirectory);
        var template = ChatTemplates.For(request.ModelDirectory, request.ChatTemplate);
        int maxLength = Math.Min(settings.MaxLength ?? config.MaxPositions, config.MaxPositions);
        var data = TrainingData.Load(request.DataDirectory, template, tokenizer, maxLength);
        int padId = tokenizer.PadTokenId ?? tokenizer.EosTokenId ?? 0;
        if (settings.EarlyStoppingPatience > 0 && data.Validation.Count == 0)
            throw new UserInputException($"--early-stopping-patience needs validation data; {Path.Combine(request.DataDirectory, PreparedPaths.ValidationFile)} is missing or empty");

        if (settings.Threads is { } threads) set_num_threads(threads);
        manual_seed(settings.Seed);
        var model = Checkpoint.Load(request.ModelDirectory, settings.Precision == WeightPrecision.Bf16 ? ScalarType.BFloat16 : ScalarType.Float32);
        var trainable = settings.Method == FineTuneMethod.Lora
            ? LoraInjector.Attach(model, settings.LoraTargets, settings.LoraRank, settings.LoraAlpha, settings.LoraDropout)
            : AllParameters(model);
        var parameters = trainable.Select(t => t.Parameter).ToList();
        var optimizer = OptimizerFactory.Create(trainable, settings.LearningRate, settings.WeightDecay);
        long trainableCount = parameters.Sum(p => p.numel());
        long totalCount = model.parameters().DistinctBy(p => p.Handle).Sum(p => p.numel());
        AtomicFile.Write(Path.Combine(outDir, RunPaths.SettingsFile), JsonSerializer.SerializeToUtf8Bytes(settings, TrainingOptions.Json));

        var order = new DataOrder(data.Train.Count, settings.BatchSize, settings.Seed);
        int windowsPerEpoch = (order.BatchesPerEpoch + settings.GradAccum - 1) / settings.GradAccum;
        int totalSteps = Math.Min(settings.Epochs * windowsPerEpoch, settings.MaxSteps ?? int.MaxValue);

        var state = resumeFrom is null ? null : TrainingCheckpoints.Load(resumeFrom, trainable, optimizer);
        if (state is not null)
        {
            using var rng = tensor(Convert.FromBase64String(state.RngState));
            set_rng_state(rng);
            log($"resuming from {resumeFrom} (step {state.Step} of {totalSteps})");
        }
        else if (request.Resume)
        {
            log($"no complete checkpoint in {checkpoints.Directory}; starting from step 0");
        }
        state ??= new TrainerState { Step = 0, Epoch = 0, BatchInEpoch = 0, RngState = "", SettingsFingerprint = fingerprint };
        log($"{settings.Method.ToString().ToLowerInvariant()} fine-tuning: {trainableCount:N0} of {totalCount:N0} parameters trainable, " +
            $"{data.Train.Count} train / {data.Validation.Count} validation conversations, {totalSteps} steps");

        using var metrics = new MetricsWriter(outDir, resumeFrom is null ? null : state.Step);
        var clock = Stopwatch.StartNew();
        double elapsedBefore = state.ElapsedSeconds;
        double Elapsed() => elapsedBefore + clock.Elapsed.TotalSeconds;
        double EpochOf(TrainerState s) => s.Epoch + (double)s.BatchInEpoch / order.BatchesPerEpoch;

        void Evaluate()
        {
            var (loss, ppl) = ValidationLoss.Compute(model, data.Validation, settings.BatchSize, padId);
            metrics.Write(new MetricRecord { Kind = MetricRecord.EvalKind, Step = state.Step, Epoch = EpochOf(state), ValLoss = loss, ValPerplexity = ppl, ElapsedSeconds = Elapsed() });
            log($"step {state.Step}: validation loss {loss:F4}, perplexity {ppl:F2}");
            state = state with { LastEvalStep = state.Step, LastValLoss = loss };
        }

        model.train();
        if (resumeFrom is null && data.Validation.Count > 0) Evaluate();

        bool interrupted = false, stoppedEarly = false;
        var windowClock = new Stopwatch();
        while (state.Step < totalSteps)
        {
            windowClock.Restart();
            int first = state.BatchInEpoch, end = Math.Min(first + settings.GradAccum, order.BatchesPerEpoch);
            var window = Enumerable.Range(first, end - first)
                .Select(b => BatchCollator.Collate(order.Batch(state.Epoch, b).Select(i => data.Train[i]).ToList(), padId))
                .ToList();
            double lr = LearningRateSchedule.At(settings.LrSchedule, settings.LearningRate, state.Step, settings.WarmupSteps, totalSteps);
            StepResult result;
            try { result = TrainingStep.Run(model, window, optimizer, parameters, lr, settings.MaxGradNorm); }
            finally { foreach (var b in window) b.Dispose(); }
            bool epochDone = end == order.BatchesPerEpoch;
            state = state with
            {
                Step = state.Step + 1,
                Epoch = epochDone ? state.Epoch + 1 : state.Epoch,
                BatchInEpoch = epochDone ? 0 : end,
                TokensSeen = state.TokensSeen + result.RealTokens,
                LastTrainLoss = result.Loss,
            };
            double tokensPerSecond = result.RealTokens / Math.Max(1e-9, windowClock.Elapsed.TotalSeconds);
            metrics.Write(new MetricRecord
            {
                Kind = MetricRecord.TrainKind, Step = state.Step, TotalSteps = totalSteps, Epoch = EpochOf(state), Loss = result.Loss, LearningRate = lr,
                GradNorm = result.GradNorm, Tokens = state.TokensSeen, TokensPerSecond = tokensPerSecond, ElapsedSeconds = Elapsed(),
            });
            double perStep = clock.Elapsed.TotalSeconds / Math.Max(1, state.Step - (resumeState?.Step ?? 0));
            progress?.Report(new TrainingProgress(state.Step, totalSteps, EpochOf(state), result.Loss, lr, tokensPerSecond,
                TimeSpan.FromSeconds(Elapsed()), TimeSpan.FromSeconds(perStep * (totalSteps - state.Step))));

            // The final validation runs before the final checkpoint, so resuming a finished run repeats nothing.
            bool evalDue = (settings.EvalEvery > 0 && state.Step % settings.EvalEvery == 0) || state.Step == totalSteps;
            if (evalDue && data.Validation.Count > 0)
            {
                Evaluate();
                if (state.BestValLoss is not { } best || state.LastValLoss < best)
                {
                    state = state with { BestValLoss = state.LastValLoss, BestStep = state.Step, EvalsWithoutImprovement = 0 };
                    if (settings.EarlyStoppingPatience > 0) checkpoints.SaveBest(trainable);
                }
                else
                {
                    state = state with { EvalsWithoutImprovement = state.EvalsWithoutImprovement + 1 };
                    stoppedEarly = settings.EarlyStoppingPatience > 0 && state.EvalsWithoutImprovement >= settings.EarlyStoppingPatience;
                }
            }
            interrupted = cancellationToken.IsCancellationRequested && state.Step < totalSteps && !stoppedEarly;
            if (interrupted || (settings.CheckpointEvery > 0 && state.Step % settings.CheckpointEvery == 0))
                SaveCheckpoint();
            if (interrupted)
            {
                log($"interrupted: checkpoint at step {state.Step}; run again with --resume to continue");
                return Result(null, null);
            }
            if (stoppedEarly)
            {
                log($"early stopping: no improvement in {settings.EarlyStoppingPatience} validations since step {state.BestStep}");
                break;
            }
        }

        if (state.Step > 0 && Path.GetFileName(checkpoints.Latest()) != $"step-{state.Step}") SaveCheckpoint();
        if (settings.EarlyStoppingPatience > 0 && checkpoints.HasBest && state.BestStep != state.Step)
        {
            checkpoints.LoadBest(trainable);
            log($"restored the best weights (step {state.BestStep}, validation loss {state.BestValLoss:F4})");
        }
        return settings.Method == FineTuneMethod.Lora ? WriteLoraOutputs() : Result(null, WriteMerged());

        void SaveCheckpoint()
        {
            using var rng = get_rng_state();
            var saved = state with { RngState = Convert.ToBase64String(rng.bytes.ToArray()), ElapsedSeconds = Elapsed() };
            string path = checkpoints.Save(saved, trainable, optimizer);
            log($"checkpoint {path}");
            request.OnCheckpoint?.Invoke(path);
        }

        FineTuneResult WriteLoraOutputs()
        {
            string adapterDir = Path.Combine(outDir, RunPaths.AdapterFolder);
            PeftAdapter.Save(model, new PeftAdapterConfig
            {
                R = settings.LoraRank,
                LoraAlpha = settings.LoraAlpha,
                LoraDropout = settings.LoraDropout,
                TargetModules = LoraInjector.TargetModuleNames(model),
                BaseModelNameOrPath = Path.GetFullPath(request.ModelDirectory),
                FanInFanOut = config.ModelType == "gpt2",
            }, adapterDir);
            string? merged = null;
            if (request.Merge)
            {
                LoraInjector.MergeAll(model);
                merged = WriteMerged();
            }
            return Result(adapterDir, merged);
        }

        string WriteMerged()
        {
            string mergedDir = Path.Combine(outDir, RunPaths.MergedFolder);
            Checkpoint.Save(model, mergedDir);
            foreach (var name in TokenizerFileNames)
            {
                string source = Path.Combine(request.ModelDirectory, name);
                if (File.Exists(source)) AtomicFile.Write(Path.Combine(mergedDir, name), File.ReadAllBytes(source));
            }
            return mergedDir;
        }

        FineTuneResult Result(string? adapter, string? merged) => new(
            state.Step, totalSteps, state.LastTrainLoss, state.LastValLoss, state.BestValLoss, state.BestStep, interrupted, stoppedEarly,
            trainableCount, totalCount, adapter, merged, Elapsed());
    }

    static IReadOnlyList<(string Name, Parameter Parameter)> AllParameters(CausalLM model)
    {
        // Tied embeddings appear under two names; the optimizer must see the tensor once.
        var all = model.named_parameters().DistinctBy(p => p.parameter.Handle).Select(p => (p.name, p.parameter)).ToList();
        foreach (var (_, p) in all) p.requires_grad = true;
        return all;
    }

    /// <summary>What must match for a checkpoint to be resumed: settings (threads aside), model and data.</summary>
    static string Fingerprint(ResolvedTrainingOptions settings, FineTuneRequest request)
    {
        var text = new StringBuilder(JsonSerializer.Serialize(settings with { Threads = null }, TrainingOptions.Json));
        foreach (var file in new[]
                 {
                     Path.Combine(request.ModelDirectory, "config.json"),
                     Path.Combine(request.DataDirectory, PreparedPaths.TrainFile),
                     Path.Combine(request.DataDirectory, PreparedPaths.ValidationFile),
                 })
            text.Append('\n').Append(File.Exists(file) ? Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file))) : "-");
        text.Append('\n').Append(request.ChatTemplate);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }
}
