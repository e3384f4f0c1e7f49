using System.Text.RegularExpressions;
using ServerlessTune.Core.Data.Redaction;

namespace ServerlessTune.Core.Data;

/// <summary>
/// Template placeholders left in answers: {{Order Number}} (Bitext and other generated datasets), &lt;ORDER_ID&gt;,
/// [CUSTOMER NAME], {order_id}. A model trained on them learns to write them, so they are counted and reported;
/// prepare.placeholders: drop removes such records. The redaction placeholders prepare writes itself are not counted.
/// </summary>
public static partial class TemplatePlaceholders
{
    [GeneratedRegex(@"\{\{[^{}\n]{1,60}\}\}|(?<!\w)<[A-Z][A-Za-z0-9_]+(?: [A-Za-z0-9_]+)*>|(?<!\w)\[[A-Z][A-Z0-9_]+(?: [A-Z0-9_]+)*\](?!\()|(?<![\w{$])\{[a-z][a-z0-9]*(?:_[a-z0-9]+)+\}(?!\})")]
    private static partial Regex Placeholder();

    static readonly HashSet<string> Own =
    [
        .. SecretDetector.AllPlaceholders,
        .. Enum.GetValues<PiiType>().Select(PiiRedactor.Placeholder),
    ];

    /// <summary>Adds the placeholders of <paramref name="text"/> to <paramref name="found"/> (created on the first one).</summary>
    public static void Find(string text, ref List<string>? found)
    {
        if (text.AsSpan().IndexOfAny('{', '<', '[') < 0) return;
        foreach (var match in Placeholder().EnumerateMatches(text))
        {
            string placeholder = text.Substring(match.Index, match.Length);
            if (Own.Contains(placeholder)) continue;
            (found ??= []).Add(placeholder);
        }
    }
}
