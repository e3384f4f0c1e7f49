namespace ServerlessTune.Core.Data.Dedup;

public enum DuplicateKind { None, Exact, Near }

/// <summary>A duplicate decision; <see cref="Original"/> is the id (in keep order) of the record it duplicates.</summary>
public readonly record struct DuplicateCheck(DuplicateKind Kind, int Original);

/// <summary>
/// Stage 4, run in input order so the first occurrence is the one kept. Exact duplicates by content key;
/// near duplicates by MinHash with banded locality-sensitive hashing (16 bands of 4 rows: a pair at
/// Jaccard 0.8 shares a band with probability above 0.999), confirmed against the threshold on the full
/// signature. State grows with the number of kept records (a key, a 128-byte signature, 16 band entries:
/// about 0.6 KB each), not with their text.
/// </summary>
public sealed class Deduplicator(double threshold)
{
    const int Bands = 16;
    const int Rows = MinHasher.SignatureLength / Bands;

    readonly Dictionary<UInt128, int> _keys = [];
    // 32-bit band keys halve the index; a rare collision only costs one extra similarity check.
    readonly Dictionary<uint, int> _bands = [];
    readonly List<ushort[]?> _signatures = [];

    /// <summary>
    /// Decides whether the record duplicates an earlier kept one; if not, remembers it under the next id
    /// (0, 1, 2, ... in the order records are kept).
    /// </summary>
    public DuplicateCheck Check(UInt128 key, uint[]? signature)
    {
        if (_keys.TryGetValue(key, out int original)) return new DuplicateCheck(DuplicateKind.Exact, original);
        int id = _keys.Count;
        if (signature is not null)
        {
            Span<uint> bandKeys = stackalloc uint[Bands];
            for (int band = 0; band < Bands; band++)
            {
                bandKeys[band] = BandKey(signature, band);
                if (_bands.TryGetValue(bandKeys[band], out int other) && MinHasher.Similarity(signature, _signatures[other]!) >= threshold)
                    return new DuplicateCheck(DuplicateKind.Near, other);
            }
            foreach (uint bandKey in bandKeys) _bands.TryAdd(bandKey, id);
        }
        _signatures.Add(signature is null ? null : MinHasher.Compact(signature));
        _keys.Add(key, id);
        return new DuplicateCheck(DuplicateKind.None, id);
    }

    static uint BandKey(uint[] signature, int band)
    {
        ulong h = (ulong)band * 0x9E3779B97F4A7C15UL;
        for (int r = band * Rows; r < (band + 1) * Rows; r++) h = (h ^ signature[r]) * 0x100000001B3UL + 0x632BE59BD9B4E019UL;
        return (uint)(h >> 32);
    }
}
