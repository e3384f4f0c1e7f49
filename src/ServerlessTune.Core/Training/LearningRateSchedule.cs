namespace ServerlessTune.Core.Training;

/// <summary>
/// Learning rate as a pure function of the optimizer step, so resuming needs only the step number
/// (no scheduler object to serialise). Warmup ramps linearly and never gives a zero rate, so no step
/// is wasted; after warmup the rate stays (constant), falls linearly, or follows a half cosine towards 0.
/// </summary>
public static class LearningRateSchedule
{
    /// <param name="step">0-based optimizer step about to be taken.</param>
    /// <param name="totalSteps">Optimizer steps in the whole run.</param>
    public static double At(LrScheduleKind kind, double peak, int step, int warmupSteps, int totalSteps)
    {
        if (step < warmupSteps)
            return peak * (step + 1) / (warmupSteps + 1);
        double progress = (double)(step - warmupSteps) / Math.Max(1, totalSteps - warmupSteps);
        progress = Math.Clamp(progress, 0, 1);
        return kind switch
        {
            LrScheduleKind.Constant => peak,
            LrScheduleKind.Linear => peak * (1 - progress),
            LrScheduleKind.Cosine => peak * 0.5 * (1 + Math.Cos(Math.PI * progress)),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }
}
