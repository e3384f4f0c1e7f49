using ServerlessTune.Core.Training;

namespace ServerlessTune.Core.Tests.Training;

public class LearningRateScheduleTests
{
    [Fact]
    public void Warmup_ramps_linearly_without_a_zero_step()
    {
        Assert.Equal(0.25, LearningRateSchedule.At(LrScheduleKind.Constant, 1.0, 0, 3, 10), 12);
        Assert.Equal(0.5, LearningRateSchedule.At(LrScheduleKind.Constant, 1.0, 1, 3, 10), 12);
        Assert.Equal(0.75, LearningRateSchedule.At(LrScheduleKind.Constant, 1.0, 2, 3, 10), 12);
        Assert.Equal(1.0, LearningRateSchedule.At(LrScheduleKind.Constant, 1.0, 3, 3, 10), 12);
        Assert.Equal(1.0, LearningRateSchedule.At(LrScheduleKind.Constant, 1.0, 9, 3, 10), 12);
    }

    [Fact]
    public void Linear_decays_towards_zero_after_warmup()
    {
        // 2 warmup steps, 8 decay steps: progress k/8 at step 2+k
        Assert.Equal(2.0, LearningRateSchedule.At(LrScheduleKind.Linear, 2.0, 2, 2, 10), 12);
        Assert.Equal(1.0, LearningRateSchedule.At(LrScheduleKind.Linear, 2.0, 6, 2, 10), 12);
        Assert.Equal(0.25, LearningRateSchedule.At(LrScheduleKind.Linear, 2.0, 9, 2, 10), 12);
    }

    [Fact]
    public void Cosine_follows_half_a_cosine()
    {
        Assert.Equal(1.0, LearningRateSchedule.At(LrScheduleKind.Cosine, 1.0, 0, 0, 4), 12);
        Assert.Equal(0.5 * (1 + Math.Cos(Math.PI / 4)), LearningRateSchedule.At(LrScheduleKind.Cosine, 1.0, 1, 0, 4), 12);
        Assert.Equal(0.5, LearningRateSchedule.At(LrScheduleKind.Cosine, 1.0, 2, 0, 4), 12);
        Assert.Equal(0.5 * (1 + Math.Cos(3 * Math.PI / 4)), LearningRateSchedule.At(LrScheduleKind.Cosine, 1.0, 3, 0, 4), 12);
    }
}
