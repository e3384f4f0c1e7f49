using System.Buffers.Binary;

namespace ServerlessTune.Core.Data.Dedup;

public enum DuplicateKind { None, Exact, Near }

/// <summary>A duplicate decision; <see cref="Original"/> is the id (in keep order) of the record it duplicates.</summary>
public readonly record struct DuplicateCheck(DuplicateKind Kind, int Original);

/// <summary>
/// Stage 4, run in input order so the first occurrence is the one kept. Exact duplicates by content key;
/// near duplicates by MinHash with banded locality-sensitive hashing (16 bands of 4 rows: a pair at
/// Jaccard 0.8 shares a band with probability above 0.999), confirmed against the threshold on the full
/// signature. State grows with the number of kept records, never with their text: per record a 16-byte
/// key, a 64-byte signature, and 4-byte slots in 17 hash indexes that store ids only (about 200 bytes).
/// </summary>
public sealed class Deduplicator
{
    const int Bands = 16;
    const int Rows = MinHasher.SignatureLength / Bands;
    const int ChunkRecords = 1 << 14;

    readonly double _threshold;
    readonly ChunkedArray<UInt128> _keys = new(ChunkRecords);
    readonly ChunkedArray<byte> _signatures = new(ChunkRecords * MinHasher.SignatureLength);
    readonly IdIndex<UInt128> _byKey;
    // A band's key is its four 8-bit minima read as one number; records without words have no bands.
    readonly IdIndex<uint>[] _byBand;

    public Deduplicator(double threshold)
    {
        _threshold = threshold;
        _byKey = new IdIndex<UInt128>(id => _keys[id]);
        _byBand = [.. Enumerable.Range(0, Bands).Select(band => new IdIndex<uint>(id => BandKey(SignatureOf(id), band)))];
    }

    /// <summary>Bytes held for the records kept so far.</summary>
    public long StateBytes => _keys.AllocatedBytes + _signatures.AllocatedBytes + _byKey.AllocatedBytes + _byBand.Sum(index => index.AllocatedBytes);

    /// <summary>
    /// Decides whether the record duplicates an earlier kept one; if not, remembers it under the next id
    /// (0, 1, 2, ... in the order records are kept).
    /// </summary>
    public DuplicateCheck Check(UInt128 key, byte[]? signature)
    {
        if (_byKey.TryGet(key, out int original)) return new DuplicateCheck(DuplicateKind.Exact, original);
        if (signature is not null)
            for (int band = 0; band < Bands; band++)
                if (_byBand[band].TryGet(BandKey(signature, band), out int other)
                    && MinHasher.Similarity(signature, SignatureOf(other)) >= _threshold)
                    return new DuplicateCheck(DuplicateKind.Near, other);

        int id = (int)_keys.Count;
        _keys.Add([key]);
        _signatures.Add(signature ?? new byte[MinHasher.SignatureLength]);
        _byKey.TryAdd(id);
        if (signature is not null)
            foreach (var index in _byBand) index.TryAdd(id);
        return new DuplicateCheck(DuplicateKind.None, id);
    }

    ReadOnlySpan<byte> SignatureOf(int id) => _signatures.Slice((long)id * MinHasher.SignatureLength, MinHasher.SignatureLength);

    static uint BandKey(ReadOnlySpan<byte> signature, int band) => BinaryPrimitives.ReadUInt32LittleEndian(signature.Slice(band * Rows, Rows));
}
