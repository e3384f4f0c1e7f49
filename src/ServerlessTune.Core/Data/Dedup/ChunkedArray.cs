namespace ServerlessTune.Core.Data.Dedup;

/// <summary>
/// An append-only array in fixed-size chunks. Growing never copies, so memory rises by one chunk at a time
/// instead of doubling (a List of a million 64-byte signatures would briefly need three times its size).
/// </summary>
internal sealed class ChunkedArray<T>(int chunkLength) where T : unmanaged
{
    readonly List<T[]> _chunks = [];

    public long Count { get; private set; }

    public long AllocatedBytes => (long)_chunks.Count * chunkLength * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();

    /// <summary>Appends the items; they must fit in what is left of the current chunk or start a new one exactly.</summary>
    public void Add(ReadOnlySpan<T> items)
    {
        int offset = (int)(Count % chunkLength);
        if (offset + items.Length > chunkLength)
            throw new ArgumentException($"{items.Length} items would straddle a chunk of {chunkLength}", nameof(items));
        if (offset == 0) _chunks.Add(new T[chunkLength]);
        items.CopyTo(_chunks[^1].AsSpan(offset));
        Count += items.Length;
    }

    public ReadOnlySpan<T> Slice(long start, int length) => _chunks[(int)(start / chunkLength)].AsSpan((int)(start % chunkLength), length);

    public T this[long index] => _chunks[(int)(index / chunkLength)][index % chunkLength];
}
