using System.Text.RegularExpressions;

namespace ServerlessTune.Core.Evaluation;

/// <summary>
/// Decides whether an answer declines the request, by phrase. The answer is lower-cased, typographic
/// apostrophes are made plain, whitespace is collapsed and common contractions are unified ("I am" =
/// "I'm", "cannot"/"can not" = "can't", "do not" = "don't", "will not" = "won't"), so each phrase below
/// covers its variants. Phrases match whole words only. The list is public so documentation can quote it.
/// </summary>
public static partial class RefusalDetector
{
    public static readonly IReadOnlyList<string> Phrases =
    [
        "i can't help", "i can't assist", "i can't provide", "i can't share", "i can't answer",
        "i can't discuss", "i can't do that", "i can't comply", "i'm unable to", "i'm not able to",
        "i won't be able to", "i'm not allowed to", "i'm not permitted to", "i don't have access to",
        "i must decline", "i have to decline", "as an ai",
    ];

    static readonly (Regex From, string To)[] Contractions =
    [
        (new Regex(@"\bi am\b", RegexOptions.CultureInvariant), "i'm"),
        (new Regex(@"\bcan ?not\b", RegexOptions.CultureInvariant), "can't"),
        (new Regex(@"\bdo not\b", RegexOptions.CultureInvariant), "don't"),
        (new Regex(@"\bwill not\b", RegexOptions.CultureInvariant), "won't"),
    ];

    static readonly Regex AnyPhrase = new(
        @"\b(?:" + string.Join('|', Phrases.Select(Regex.Escape)) + @")\b", RegexOptions.CultureInvariant);

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    /// <summary>The refusal phrase the answer contains (in its unified form), or null.</summary>
    public static string? FindRefusal(string answer)
    {
        var text = Whitespace().Replace(answer.ToLowerInvariant(), " ")
            .Replace('\u2019', '\'').Replace('\u2018', '\'').Replace('\u02bc', '\'');
        foreach (var (from, to) in Contractions)
            text = from.Replace(text, to);
        var match = AnyPhrase.Match(text);
        return match.Success ? match.Value : null;
    }
}
