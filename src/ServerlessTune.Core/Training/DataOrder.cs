namespace ServerlessTune.Core.Training;

/// <summary>
/// The order examples are visited in: a fresh permutation per epoch derived only from (seed, epoch), so
/// the data position in a checkpoint is just (epoch, micro-batch index) and a resumed run sees exactly the
/// batches the uninterrupted run would have.
/// </summary>
public sealed class DataOrder(int exampleCount, int batchSize, int seed)
{
    int _cachedEpoch = -1;
    int[] _cached = [];

    public int BatchesPerEpoch { get; } = (exampleCount + batchSize - 1) / batchSize;

    public int[] Batch(int epoch, int batchIndex)
    {
        if (epoch != _cachedEpoch)
        {
            _cached = Permutation(epoch);
            _cachedEpoch = epoch;
        }
        int start = batchIndex * batchSize;
        return _cached[start..Math.Min(start + batchSize, exampleCount)];
    }

    public int[] Permutation(int epoch)
    {
        var order = Enumerable.Range(0, exampleCount).ToArray();
        new Random(EpochSeed(seed, epoch)).Shuffle(order);
        return order;
    }

    /// <summary>A fixed mix of (seed, epoch) (not HashCode, which is randomised per process), so neighbouring
    /// seeds do not share epoch orders.</summary>
    static int EpochSeed(int seed, int epoch)
    {
        ulong x = unchecked((ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)(uint)epoch);
        x = unchecked((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL);
        x = unchecked((x ^ (x >> 27)) * 0x94D049BB133111EBUL);
        return (int)((x ^ (x >> 31)) & int.MaxValue);
    }
}
