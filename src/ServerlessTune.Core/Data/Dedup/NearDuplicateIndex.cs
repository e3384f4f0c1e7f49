using System.Buffers.Binary;

namespace ServerlessTune.Core.Data.Dedup;

/// <summary>
/// MinHash signatures found again by banded locality-sensitive hashing: 16 bands of 4 rows, so a pair at Jaccard 0.8
/// shares a band with probability above 0.999; a candidate is confirmed on the full signature. Ids are 0, 1, 2... in
/// the order signatures are added. Per signature: 64 bytes, and a 4-byte slot in each of the 16 band indexes.
/// Deduplication asks it about each record before keeping it; contamination asks it about each evaluation case.
/// </summary>
public sealed class NearDuplicateIndex
{
    const int Bands = 16;
    const int Rows = MinHasher.SignatureLength / Bands;
    const int ChunkRecords = 1 << 14;

    readonly ChunkedArray<byte> _signatures = new(ChunkRecords * MinHasher.SignatureLength);
    // A band's key is its four 8-bit minima read as one number; signatures of texts without words have no bands.
    readonly IdIndex<uint>[] _byBand;
    int _count;

    public NearDuplicateIndex() =>
        _byBand = [.. Enumerable.Range(0, Bands).Select(band => new IdIndex<uint>(id => BandKey(SignatureOf(id), band)))];

    public int Count => _count;

    public long AllocatedBytes => _signatures.AllocatedBytes + _byBand.Sum(index => index.AllocatedBytes);

    /// <summary>Adds a signature under the next id and returns it; null (a text without words) takes an id and no band.</summary>
    public int Add(byte[]? signature)
    {
        int id = _count++;
        _signatures.Add(signature ?? new byte[MinHasher.SignatureLength]);
        if (signature is not null)
            foreach (var index in _byBand) index.TryAdd(id);
        return id;
    }

    /// <summary>An added signature whose estimated Jaccard similarity to <paramref name="signature"/> reaches the threshold.</summary>
    public bool TryFind(ReadOnlySpan<byte> signature, double threshold, out int id, out double similarity)
    {
        for (int band = 0; band < Bands; band++)
        {
            if (!_byBand[band].TryGet(BandKey(signature, band), out id)) continue;
            similarity = MinHasher.Similarity(signature, SignatureOf(id));
            if (similarity >= threshold) return true;
        }
        (id, similarity) = (-1, 0);
        return false;
    }

    ReadOnlySpan<byte> SignatureOf(int id) => _signatures.Slice((long)id * MinHasher.SignatureLength, MinHasher.SignatureLength);

    static uint BandKey(ReadOnlySpan<byte> signature, int band) => BinaryPrimitives.ReadUInt32LittleEndian(signature.Slice(band * Rows, Rows));
}
