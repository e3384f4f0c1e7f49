using ServerlessTune.Core.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ServerlessTune.Core.Training;

public readonly record struct StepResult(double Loss, double GradNorm, int TargetTokens, int RealTokens);

/// <summary>Seconds spent per phase of training steps (CPU torch ops are synchronous, so a stopwatch suffices).</summary>
public sealed class StepPhaseTimes
{
    public double Forward { get; set; }
    public double Backward { get; set; }
    public double Clip { get; set; }
    public double Optimizer { get; set; }
    public double Total => Forward + Backward + Clip + Optimizer;
}

/// <summary>
/// One optimizer step over an accumulation window of micro-batches. Each micro-batch's summed token loss is
/// divided by the window's total target tokens, so the gradient is the mean over every trained token of the
/// window no matter how tokens spread across micro-batches: accumulating N batches equals one batch N times larger.
/// </summary>
public static class TrainingStep
{
    public static StepResult Run(CausalLM model, IReadOnlyList<TrainingBatch> window, AdamW optimizer,
        IReadOnlyList<Parameter> trainable, double learningRate, double maxGradNorm, StepPhaseTimes? times = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        double Lap()
        {
            double seconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            return seconds;
        }
        times ??= new StepPhaseTimes();
        int targets = window.Sum(b => b.TargetTokens);
        int real = window.Sum(b => b.RealTokens);
        double lossSum = 0;
        optimizer.zero_grad();
        times.Optimizer += Lap();
        foreach (var batch in window)
        {
            using var scope = NewDisposeScope();
            var logits = model.forward(batch.InputIds, batch.AttentionMask);
            var sum = TokenLoss.Sum(logits, batch.Labels);
            lossSum += sum.item<float>();
            times.Forward += Lap();
            (sum / Math.Max(1, targets)).backward();
            times.Backward += Lap();
        }
        // clip_grad_norm_ returns the norm before clipping; with clipping off it still reports it.
        double norm = nn.utils.clip_grad_norm_(trainable, maxGradNorm > 0 ? maxGradNorm : double.PositiveInfinity, 2.0);
        times.Clip += Lap();
        OptimizerFactory.SetLearningRate(optimizer, learningRate);
        optimizer.step();
        times.Optimizer += Lap();
        return new StepResult(lossSum / Math.Max(1, targets), norm, targets, real);
    }
}

/// <summary>Next-token cross-entropy summed over labelled positions (labels already shifted by the collator).</summary>
public static class TokenLoss
{
    public static Tensor Sum(Tensor logits, Tensor labels) =>
        nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), labels.view(-1),
            ignore_index: BatchCollator.IgnoreIndex, reduction: nn.Reduction.Sum);
}
