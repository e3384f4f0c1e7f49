namespace ServerlessTune.Core.Tokenization;

/// <summary>
/// Recovers BPE merges from tiktoken ranks the way Transformers' TikTokenConverter does: every split of a
/// token into two tokens becomes a merge at the token's rank. tiktoken repeatedly joins the adjacent pair
/// whose join has the lowest rank, and BPE over these merges picks the same pair at every step.
/// </summary>
internal static class TiktokenMerges
{
    public readonly record struct Merge(byte[] Left, byte[] Right);

    public static List<Merge> Recover(IReadOnlyList<byte[]> ranks)
    {
        var rankOf = new Dictionary<byte[], int>(ranks.Count, ByteArrayComparer.Instance);
        for (var rank = 0; rank < ranks.Count; rank++)
            rankOf[ranks[rank]] = rank;
        var merges = new List<Merge>();
        var local = new List<(byte[] Left, byte[] Right, int LeftRank, int RightRank)>();
        foreach (var token in ranks)
        {
            local.Clear();
            for (var cut = 1; cut < token.Length; cut++)
            {
                var left = token[..cut];
                var right = token[cut..];
                if (rankOf.TryGetValue(left, out var leftRank) && rankOf.TryGetValue(right, out var rightRank))
                    local.Add((left, right, leftRank, rightRank));
            }
            local.Sort((a, b) => a.LeftRank != b.LeftRank ? a.LeftRank.CompareTo(b.LeftRank) : a.RightRank.CompareTo(b.RightRank));
            merges.AddRange(local.Select(m => new Merge(m.Left, m.Right)));
        }
        return merges;
    }

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
        public int GetHashCode(byte[] bytes)
        {
            var hash = new HashCode();
            hash.AddBytes(bytes);
            return hash.ToHashCode();
        }
    }
}
