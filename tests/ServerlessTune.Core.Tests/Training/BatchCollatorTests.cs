using ServerlessTune.Core.Training;

namespace ServerlessTune.Core.Tests.Training;

public class BatchCollatorTests
{
    [Fact]
    public void Shifts_labels_masks_untrained_tokens_and_right_pads()
    {
        var a = new TrainingExample("f", 1, [10, 11, 12, 13], [false, false, true, true]);
        var b = new TrainingExample("f", 2, [20, 21], [false, true]);
        using var batch = BatchCollator.Collate([a, b], padTokenId: 0);

        Assert.Equal(new long[] { 2, 3 }, batch.InputIds.shape);
        Assert.Equal(new long[] { 10, 11, 12, 20, 0, 0 }, batch.InputIds.data<long>().ToArray());
        Assert.Equal(new long[] { 1, 1, 1, 1, 0, 0 }, batch.AttentionMask.data<long>().ToArray());
        long x = BatchCollator.IgnoreIndex;
        Assert.Equal(new long[] { x, 12, 13, 21, x, x }, batch.Labels.data<long>().ToArray());
        Assert.Equal(3, batch.TargetTokens);
        Assert.Equal(4, batch.RealTokens);
        Assert.Equal(2, a.TargetCount);
    }
}
