namespace ServerlessTune.Core.Data.Dedup;

/// <summary>
/// MinHash signatures over word 3-shingles (lower-cased letters and digits), whose agreement estimates
/// Jaccard similarity. Hashes are fixed functions of the text (no per-process randomisation), so the same
/// input gives the same duplicate decisions on every machine.
/// </summary>
public static class MinHasher
{
    public const int SignatureLength = 64;
    const int ShingleWords = 3;

    static readonly ulong[] Multipliers = CreateMultipliers();

    static ulong[] CreateMultipliers()
    {
        ulong state = 0x5EED0FD00DUL;
        var result = new ulong[SignatureLength];
        for (int i = 0; i < result.Length; i++) result[i] = SplitMix(ref state) | 1;
        return result;
    }

    /// <summary>The signature, or null when the text has no words (exact matching still applies).</summary>
    public static uint[]? Signature(IEnumerable<string> texts)
    {
        var words = new List<ulong>();
        foreach (var text in texts) AddWordHashes(text, words);
        if (words.Count == 0) return null;
        var signature = new uint[SignatureLength];
        Array.Fill(signature, uint.MaxValue);
        int shingles = Math.Max(1, words.Count - ShingleWords + 1);
        for (int s = 0; s < shingles; s++)
        {
            ulong h = 0;
            for (int w = s; w < Math.Min(words.Count, s + ShingleWords); w++) h = h * 0x9E3779B97F4A7C15UL + words[w];
            h = Mix(h);
            for (int p = 0; p < SignatureLength; p++)
            {
                // The shingle hash is already fully mixed, so one multiply-shift per permutation is enough
                // (measured unbiased against exact Jaccard); mixing per permutation cost as much as tokenizing.
                uint value = (uint)((h * Multipliers[p]) >> 32);
                if (value < signature[p]) signature[p] = value;
            }
        }
        return signature;
    }

    /// <summary>
    /// The signature as it is kept: the low 16 bits of each minimum (b-bit MinHash). Half the memory, and
    /// two different minima agree by chance with probability 2^-16, far below the estimate's own noise.
    /// </summary>
    public static ushort[] Compact(uint[] signature) => Array.ConvertAll(signature, v => (ushort)v);

    /// <summary>The fraction of positions where a signature agrees with a kept one: an estimate of their Jaccard similarity.</summary>
    public static double Similarity(uint[] signature, ushort[] kept)
    {
        int same = 0;
        for (int i = 0; i < kept.Length; i++) if ((ushort)signature[i] == kept[i]) same++;
        return (double)same / kept.Length;
    }

    static void AddWordHashes(string text, List<ulong> words)
    {
        ulong hash = 0xCBF29CE484222325UL;
        bool inWord = false;
        foreach (char c in text)
        {
            if (char.IsLetterOrDigit(c))
            {
                hash = (hash ^ char.ToLowerInvariant(c)) * 0x100000001B3UL;
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
