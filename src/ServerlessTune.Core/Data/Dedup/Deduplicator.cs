namespace ServerlessTune.Core.Data.Dedup;

public enum DuplicateKind { None, Exact, Near }

/// <summary>A duplicate decision; <see cref="Original"/> is the id (in keep order) of the record it duplicates.</summary>
public readonly record struct DuplicateCheck(DuplicateKind Kind, int Original);

/// <summary>
/// Stage 4, run in input order so the first occurrence is the one kept. Exact duplicates by content key; near
/// duplicates by MinHash (<see cref="NearDuplicateIndex"/>) against the threshold. State grows with the number of kept
/// records, never with their text: per record a 16-byte key, a 64-byte signature, and 4-byte slots in 17 hash indexes
/// that store ids only (about 200 bytes).
/// </summary>
public sealed class Deduplicator
{
    const int ChunkRecords = 1 << 14;

    readonly double _threshold;
    readonly ChunkedArray<UInt128> _keys = new(ChunkRecords);
    readonly NearDuplicateIndex _near = new();
    readonly IdIndex<UInt128> _byKey;

    public Deduplicator(double threshold)
    {
        _threshold = threshold;
        _byKey = new IdIndex<UInt128>(id => _keys[id]);
    }

    /// <summary>Bytes held for the records kept so far.</summary>
    public long StateBytes => _keys.AllocatedBytes + _byKey.AllocatedBytes + _near.AllocatedBytes;

    /// <summary>
    /// Decides whether the record duplicates an earlier kept one; if not, remembers it under the next id
    /// (0, 1, 2, ... in the order records are kept).
    /// </summary>
    public DuplicateCheck Check(UInt128 key, byte[]? signature)
    {
        if (_byKey.TryGet(key, out int original)) return new DuplicateCheck(DuplicateKind.Exact, original);
        if (signature is not null && _near.TryFind(signature, _threshold, out int other, out _))
            return new DuplicateCheck(DuplicateKind.Near, other);
        _keys.Add([key]);
        int id = _near.Add(signature);
        _byKey.TryAdd(id);
        return new DuplicateCheck(DuplicateKind.None, id);
    }
}
