using System.Text;
using System.Text.RegularExpressions;

namespace ServerlessTune.Core.Evaluation;

/// <summary>
/// Tokenisation used by the answer metrics, mirroring the reference scripts so our figures are
/// comparable with published ones: SQuAD v2's normalize_answer for exact match and F1, and Google
/// rouge_score's default tokenizer (no stemming) for ROUGE-L.
/// </summary>
public static partial class AnswerNormalizer
{
    // Python's string.punctuation: the SQuAD script removes ASCII punctuation only.
    const string AsciiPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    [GeneratedRegex(@"\b(a|an|the)\b", RegexOptions.CultureInvariant)]
    private static partial Regex Articles();

    /// <summary>Lower case, ASCII punctuation removed, articles a/an/the removed, whitespace collapsed.</summary>
    public static string NormalizeSquad(string text) => string.Join(' ', SquadTokens(text));

    /// <summary>The normalised answer split on whitespace (Python's str.split whitespace set).</summary>
    public static IReadOnlyList<string> SquadTokens(string text)
    {
        var lowered = text.ToLowerInvariant();
        var withoutPunctuation = new StringBuilder(lowered.Length);
        foreach (var c in lowered)
            if (!AsciiPunctuation.Contains(c))
                withoutPunctuation.Append(c);
        var withoutArticles = Articles().Replace(withoutPunctuation.ToString(), " ");
        return SplitPythonWhitespace(withoutArticles);
    }

    /// <summary>Lower-cased runs of ASCII letters and digits; everything else separates tokens.</summary>
    public static IReadOnlyList<string> RougeTokens(string text)
    {
        var tokens = new List<string>();
        var current = new StringBuilder();
        foreach (var c in text.ToLowerInvariant())
        {
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9')
            {
                current.Append(c);
            }
            else if (current.Length > 0)
            {
                tokens.Add(current.ToString());
                current.Clear();
            }
        }
        if (current.Length > 0)
            tokens.Add(current.ToString());
        return tokens;
    }

    static List<string> SplitPythonWhitespace(string text)
    {
        var tokens = new List<string>();
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var boundary = i == text.Length || IsPythonWhitespace(text[i]);
            if (boundary && start >= 0)
            {
                tokens.Add(text[start..i]);
                start = -1;
            }
            else if (!boundary && start < 0)
            {
                start = i;
            }
        }
        return tokens;
    }

    // str.split() also splits on the ASCII information separators U+001C..U+001F, which .NET does not call white space.
    static bool IsPythonWhitespace(char c) => char.IsWhiteSpace(c) || c is >= '\u001c' and <= '\u001f';
}
