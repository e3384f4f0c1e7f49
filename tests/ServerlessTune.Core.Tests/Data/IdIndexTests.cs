using ServerlessTune.Core.Data.Dedup;

namespace ServerlessTune.Core.Tests.Data;

public sealed class IdIndexTests
{
    /// <summary>A key whose hash is the same for every value: every lookup walks one probe run.</summary>
    readonly record struct Colliding(int Value)
    {
        public override int GetHashCode() => 42;
    }

    [Fact]
    public void Finds_every_added_id_through_growth_and_keeps_the_first_id_of_a_key()
    {
        var keys = new List<int>();
        var index = new IdIndex<int>(id => keys[id]);
        for (int id = 0; id < 50_000; id++)
        {
            keys.Add(id % 20_000 * 7919);
            index.TryAdd(id);
        }
        for (int id = 0; id < 20_000; id++)
        {
            Assert.True(index.TryGet(id * 7919, out int found));
            Assert.Equal(id, found);
        }
        Assert.False(index.TryGet(-1, out int missing));
        Assert.Equal(-1, missing);
    }

    [Fact]
    public void Keys_with_one_hash_are_told_apart_by_equality()
    {
        var keys = Enumerable.Range(0, 2_000).Select(i => new Colliding(i * 3)).ToList();
        var index = new IdIndex<Colliding>(id => keys[id]);
        for (int id = 0; id < keys.Count; id++) index.TryAdd(id);
        Assert.True(index.TryGet(new Colliding(2_997), out int found));
        Assert.Equal(999, found);
        Assert.False(index.TryGet(new Colliding(1), out _));
    }

    [Fact]
    public void Chunked_array_slices_within_chunks_and_refuses_to_straddle_one()
    {
        var array = new ChunkedArray<byte>(8);
        array.Add([1, 2, 3, 4]);
        array.Add([5, 6, 7, 8]);
        array.Add([9, 10, 11, 12]);
        Assert.Equal([9, 10, 11, 12], array.Slice(8, 4).ToArray());
        Assert.Equal(6, array[5]);
        Assert.Equal(16, array.AllocatedBytes);
        Assert.Throws<ArgumentException>(() => array.Add([1, 2, 3, 4, 5]));
    }
}
