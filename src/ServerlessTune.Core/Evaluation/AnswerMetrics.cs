namespace ServerlessTune.Core.Evaluation;

/// <summary>Scores of one answer against its best-matching references, each in [0, 1].</summary>
public sealed record AnswerScores(double ExactMatch, double F1, double RougeL);

/// <summary>
/// Exact match and token F1 as the official SQuAD v2 evaluation script computes them, and ROUGE-L F1
/// as rouge_score does. Each takes the maximum over the references independently.
/// </summary>
public static class AnswerMetrics
{
    public static double ExactMatch(string prediction, string reference) =>
        AnswerNormalizer.NormalizeSquad(prediction) == AnswerNormalizer.NormalizeSquad(reference) ? 1 : 0;

    /// <summary>F1 over token multisets; when either side has no tokens, 1 if both are empty and 0 otherwise.</summary>
    public static double F1(string prediction, string reference)
    {
        var predicted = AnswerNormalizer.SquadTokens(prediction);
        var expected = AnswerNormalizer.SquadTokens(reference);
        if (predicted.Count == 0 || expected.Count == 0)
            return predicted.Count == expected.Count ? 1 : 0;
        var remaining = expected.GroupBy(t => t, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var common = 0;
        foreach (var token in predicted)
        {
            if (remaining.TryGetValue(token, out var count) && count > 0)
            {
                remaining[token] = count - 1;
                common++;
            }
        }
        return HarmonicMean(common, predicted.Count, expected.Count);
    }

    /// <summary>ROUGE-L F1 from the longest common subsequence; 0 when either side has no tokens (as rouge_score).</summary>
    public static double RougeL(string prediction, string reference)
    {
        var predicted = AnswerNormalizer.RougeTokens(prediction);
        var expected = AnswerNormalizer.RougeTokens(reference);
        if (predicted.Count == 0 || expected.Count == 0)
            return 0;
        return HarmonicMean(LongestCommonSubsequence(predicted, expected), predicted.Count, expected.Count);
    }

    /// <summary>
    /// Best score over the references. As in the SQuAD v2 script, references that normalise to nothing are
    /// ignored for exact match and F1 unless all of them do, in which case the expected answer is empty.
    /// </summary>
    public static AnswerScores Score(string prediction, IReadOnlyList<string> references)
    {
        if (references.Count == 0)
            throw new ArgumentException("at least one reference is needed", nameof(references));
        var answerable = references.Where(r => AnswerNormalizer.SquadTokens(r).Count > 0).ToList();
        if (answerable.Count == 0)
            answerable.Add("");
        return new AnswerScores(
            answerable.Max(r => ExactMatch(prediction, r)),
            answerable.Max(r => F1(prediction, r)),
            references.Max(r => RougeL(prediction, r)));
    }

    static double HarmonicMean(int overlap, int predictedCount, int expectedCount)
    {
        if (overlap == 0)
            return 0;
        var precision = (double)overlap / predictedCount;
        var recall = (double)overlap / expectedCount;
        return 2 * precision * recall / (precision + recall);
    }

    // Two rows of the dynamic programme: long answers cost O(n*m) time but only O(m) memory.
    static int LongestCommonSubsequence(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        var previous = new int[b.Count + 1];
        var current = new int[b.Count + 1];
        for (var i = 1; i <= a.Count; i++)
        {
            for (var j = 1; j <= b.Count; j++)
                current[j] = a[i - 1] == b[j - 1] ? previous[j - 1] + 1 : Math.Max(previous[j], current[j - 1]);
            (previous, current) = (current, previous);
        }
        return previous[b.Count];
    }
}
