using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ServerlessTune.Core.Data.Dedup;

/// <summary>
/// MinHash signatures over word 3-shingles (lower-cased letters and digits), whose agreement estimates
/// Jaccard similarity. Hashes are fixed functions of the text (no per-process randomisation), so the same
/// input gives the same duplicate decisions on every machine. A signature keeps the low 8 bits of each
/// minimum (b-bit MinHash): 64 bytes a record, which the deduplicator holds for every record it keeps.
/// </summary>
public static class MinHasher
{
    public const int SignatureLength = 64;
    const int ShingleWords = 3;

    static readonly ulong[] Multipliers = CreateMultipliers();
    // The multipliers' 32-bit halves, for the AVX2 path (which has no 64-bit lane multiply).
    static readonly uint[] LowHalves = [.. Multipliers.Select(m => (uint)m)];
    static readonly uint[] HighHalves = [.. Multipliers.Select(m => (uint)(m >> 32))];

    [ThreadStatic] static List<ulong>? t_words;

    /// <summary>Two different minima agree in their low 8 bits by chance this often.</summary>
    const double ChanceAgreement = 1.0 / 256;

    static ulong[] CreateMultipliers()
    {
        ulong state = 0x5EED0FD00DUL;
        var result = new ulong[SignatureLength];
        for (int i = 0; i < result.Length; i++) result[i] = SplitMix(ref state) | 1;
        return result;
    }

    /// <summary>The signature, or null when the text has no words (exact matching still applies).</summary>
    public static byte[]? Signature(IEnumerable<string> texts)
    {
        // One word list per worker thread, reused: records come by the million.
        var words = t_words ??= [];
        words.Clear();
        foreach (var text in texts) AddWordHashes(text, words);
        if (words.Count == 0) return null;
        Span<uint> minimumValues = stackalloc uint[SignatureLength];
        minimumValues.Fill(uint.MaxValue);
        int shingles = Math.Max(1, words.Count - ShingleWords + 1);
        ref uint minima = ref MemoryMarshal.GetReference(minimumValues);
        for (int s = 0; s < shingles; s++)
        {
            ulong h = 0;
            for (int w = s; w < Math.Min(words.Count, s + ShingleWords); w++) h = h * 0x9E3779B97F4A7C15UL + words[w];
            // The shingle hash is already fully mixed, so one multiply-shift per permutation is enough
            // (measured unbiased against exact Jaccard); mixing per permutation cost as much as tokenizing.
            if (Avx2.IsSupported) LowerMinimaAvx2(Mix(h), ref minima);
            else LowerMinima(Mix(h), ref minima);
        }
        var signature = new byte[SignatureLength];
        for (int p = 0; p < SignatureLength; p++) signature[p] = (byte)minimumValues[p];
        return signature;
    }

    /// <summary>Permutation p's value is bits 32..63 of h * Multipliers[p]; each minimum keeps the lowest value seen.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void LowerMinima(ulong h, ref uint minima)
    {
        ref ulong multipliers = ref MemoryMarshal.GetArrayDataReference(Multipliers);
        var mixed = Vector256.Create(h);
        int lanes = Vector256<ulong>.Count;
        for (int p = 0; p < SignatureLength; p += 2 * lanes)
        {
            var low = Vector256.ShiftRightLogical(mixed * Vector256.LoadUnsafe(ref multipliers, (nuint)p), 32);
            var high = Vector256.ShiftRightLogical(mixed * Vector256.LoadUnsafe(ref multipliers, (nuint)(p + lanes)), 32);
            Vector256.Min(Vector256.Narrow(low, high), Vector256.LoadUnsafe(ref minima, (nuint)p)).StoreUnsafe(ref minima, (nuint)p);
        }
    }

    /// <summary>
    /// <see cref="LowerMinima"/> in 32-bit lanes, eight permutations a step: AVX2 multiplies 64-bit lanes only in
    /// software, and bits 32..63 of h * m are hi32(lo(h) * lo(m)) + lo(h) * hi(m) + hi(h) * lo(m), modulo 2^32.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void LowerMinimaAvx2(ulong h, ref uint minima)
    {
        ref uint lowHalves = ref MemoryMarshal.GetArrayDataReference(LowHalves);
        ref uint highHalves = ref MemoryMarshal.GetArrayDataReference(HighHalves);
        var hLow = Vector256.Create((uint)h);
        var hHigh = Vector256.Create((uint)(h >> 32));
        for (int p = 0; p < SignatureLength; p += Vector256<uint>.Count)
        {
            var mLow = Vector256.LoadUnsafe(ref lowHalves, (nuint)p);
            var mHigh = Vector256.LoadUnsafe(ref highHalves, (nuint)p);
            // vpmuludq multiplies the even 32-bit lanes into 64 bits: the even permutations, then the odd ones shifted down.
            var even = Avx2.ShiftRightLogical(Avx2.Multiply(mLow, hLow), 32).AsUInt32();
            var odd = Avx2.Multiply(Avx2.ShiftRightLogical(mLow.AsUInt64(), 32).AsUInt32(), hLow).AsUInt32();
            var carry = Avx2.Blend(even, odd, 0b1010_1010);
            var value = carry + hLow * mHigh + hHigh * mLow;
            Vector256.Min(value, Vector256.LoadUnsafe(ref minima, (nuint)p)).StoreUnsafe(ref minima, (nuint)p);
        }
    }

    /// <summary>
    /// An estimate of the Jaccard similarity of two signatures' texts: the fraction of positions that agree,
    /// less the 1 in 256 that agree by chance in 8 bits (b-bit MinHash's correction).
    /// </summary>
    public static double Similarity(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        int same = 0;
        for (int i = 0; i < a.Length; i++) if (a[i] == b[i]) same++;
        return Math.Max(0, ((double)same / a.Length - ChanceAgreement) / (1 - ChanceAgreement));
    }

    /// <summary>Each ASCII character lower-cased if it belongs to a word (a letter or digit), else 0.</summary>
    static readonly char[] AsciiWordChars = [.. Enumerable.Range(0, 128).Select(c => char.IsAsciiLetterOrDigit((char)c) ? char.ToLowerInvariant((char)c) : '\0')];

    static void AddWordHashes(string text, List<ulong> words)
    {
        ulong hash = 0xCBF29CE484222325UL;
        bool inWord = false;
        foreach (char c in text)
        {
            // The invariant culture's lower case, looked up for ASCII (the bulk of most text).
            char lower = c < 128 ? AsciiWordChars[c] : char.IsLetterOrDigit(c) ? char.ToLowerInvariant(c) : '\0';
            if (lower != '\0')
            {
                hash = (hash ^ lower) * 0x100000001B3UL;
                inWord = true;
            }
            else if (inWord)
            {
                words.Add(hash);
                hash = 0xCBF29CE484222325UL;
                inWord = false;
            }
        }
        if (inWord) words.Add(hash);
    }

    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    static ulong SplitMix(ref ulong state) => Mix(state += 0x9E3779B97F4A7C15UL);
}
