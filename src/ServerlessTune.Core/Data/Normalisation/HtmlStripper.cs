using System.Net;
using System.Text.RegularExpressions;

namespace ServerlessTune.Core.Data.Normalisation;

/// <summary>
/// Removes HTML markup from help-desk exports and decodes entities. Only real HTML tag names are
/// touched, so "List&lt;string&gt;" or "a &lt; b" in prose survive; block tags become line breaks so
/// paragraphs and list items keep their structure. Inline code spans are left exactly as written.
/// </summary>
public static partial class HtmlStripper
{
    [GeneratedRegex(@"<(script|style)\b[^>]*>.*?</\1\s*>|<!--.*?-->", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex Invisible();

    [GeneratedRegex(@"</?(?:br|p|div|tr|h[1-6]|ul|ol|table|thead|tbody|tfoot|blockquote|hr|pre|dl|dt|dd|section|article|header|footer)\b[^<>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex BlockTag();

    [GeneratedRegex(@"<li\b[^<>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex ListItem();

    [GeneratedRegex(@"</?(?:a|abbr|b|big|body|caption|center|code|del|em|font|head|html|i|img|ins|kbd|li|mark|meta|s|small|span|strike|strong|sub|sup|td|th|title|tt|u|link)\b[^<>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex InlineTag();

    [GeneratedRegex(@"`[^`\n]+`")]
    private static partial Regex InlineCode();

    /// <summary>Strips tags and decodes entities in prose (not inside fenced code blocks; the caller splits those off).</summary>
    public static string Strip(string prose)
    {
        if (prose.IndexOfAny(['<', '&']) < 0) return prose;
        if (prose.IndexOf('`') < 0) return StripPart(prose);
        var result = new System.Text.StringBuilder(prose.Length);
        int last = 0;
        foreach (Match code in InlineCode().Matches(prose))
        {
            result.Append(StripPart(prose[last..code.Index])).Append(code.Value);
            last = code.Index + code.Length;
        }
        return result.Append(StripPart(prose[last..])).ToString();
    }

    static string StripPart(string text)
    {
        if (text.IndexOf('<') >= 0)
        {
            text = Invisible().Replace(text, "");
            text = ListItem().Replace(text, "\n- ");
            text = BlockTag().Replace(text, "\n");
            text = InlineTag().Replace(text, "");
        }
        return text.IndexOf('&') >= 0 ? WebUtility.HtmlDecode(text) : text;
    }
}
