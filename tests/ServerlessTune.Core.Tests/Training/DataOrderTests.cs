using ServerlessTune.Core.Training;

namespace ServerlessTune.Core.Tests.Training;

public class DataOrderTests
{
    [Fact]
    public void Each_epoch_is_a_seeded_permutation_split_into_batches()
    {
        var order = new DataOrder(exampleCount: 10, batchSize: 4, seed: 7);
        Assert.Equal(3, order.BatchesPerEpoch);
        var epoch0 = Enumerable.Range(0, 3).SelectMany(b => order.Batch(0, b)).ToArray();
        Assert.Equal(Enumerable.Range(0, 10), epoch0.Order());
        Assert.Equal(2, order.Batch(0, 2).Length);
        Assert.NotEqual(order.Permutation(0), order.Permutation(1));
        Assert.Equal(order.Permutation(1), new DataOrder(10, 4, 7).Permutation(1));
        Assert.NotEqual(order.Permutation(0), new DataOrder(10, 4, 8).Permutation(0));
    }
}
