using System.Buffers;
using System.Text;

namespace ServerlessTune.Core.Data.Normalisation;

/// <summary>
/// Stage 2: one canonical form for every text, so equal texts compare equal and the model never learns
/// markup noise. Line ends become '\n'; HTML is stripped and entities decoded; control and invisible
/// characters go; text is NFC. Whitespace is tidied per line (trailing spaces, runs of spaces, runs of
/// blank lines) but leading indentation stays, and fenced code blocks keep every line as written.
/// </summary>
public static class TextNormaliser
{
    public static string Normalise(string text)
    {
        if (text.Length == 0) return text;
        if (text.IndexOf('\r') >= 0) text = text.Replace("\r\n", "\n").Replace('\r', '\n');
        text = StripHtmlOutsideFences(text);
        text = RemoveInvisible(text);
        if (!text.IsNormalized(NormalizationForm.FormC)) text = text.Normalize(NormalizationForm.FormC);
        return TidyWhitespace(text);
    }

    static string StripHtmlOutsideFences(string text)
    {
        if (text.IndexOfAny(['<', '&']) < 0) return text;
        if (!text.Contains("```") && !text.Contains("~~~")) return HtmlStripper.Strip(text);
        var result = new StringBuilder(text.Length);
        var prose = new StringBuilder();
        bool inFence = false;
        foreach (var line in text.Split('\n'))
        {
            bool fence = IsFence(line);
            if (inFence || fence)
            {
                if (prose.Length > 0) { result.Append(HtmlStripper.Strip(prose.ToString())); prose.Clear(); }
                result.Append(line).Append('\n');
            }
            else prose.Append(line).Append('\n');
            if (fence) inFence = !inFence;
        }
        result.Append(HtmlStripper.Strip(prose.ToString()));
        return result.ToString(0, result.Length - 1);
    }

    static readonly SearchValues<char> InvisibleOrNoBreak = SearchValues.Create(
        Enumerable.Range(0, 0x10000).Select(c => (char)c).Where(c => IsInvisible(c) || IsNoBreakSpace(c)).ToArray());

    static string RemoveInvisible(string text)
    {
        int i = text.AsSpan().IndexOfAny(InvisibleOrNoBreak);
        if (i < 0) return text;
        var sb = new StringBuilder(text.Length);
        sb.Append(text, 0, i);
        for (; i < text.Length; i++)
        {
            char c = text[i];
            if (IsNoBreakSpace(c)) sb.Append(' ');
            else if (!IsInvisible(c)) sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>Control characters other than newline and tab, and zero-width characters that only hide differences.</summary>
    static bool IsInvisible(char c) =>
        (char.IsControl(c) && c is not '\n' and not '\t') || c is '\u200B' or '\u2060' or '\uFEFF' or '\u00AD' or '\uFFFD';

    static bool IsNoBreakSpace(char c) => c is '\u00A0' or '\u202F' or '\u2007';

    static string TidyWhitespace(string text)
    {
        if (text.Length == 0 || IsTidy(text)) return text;
        var sb = new StringBuilder(text.Length);
        bool inFence = false;
        int blankRun = 0;
        foreach (var raw in text.Split('\n'))
        {
            string line = raw.TrimEnd();
            bool fence = IsFence(line);
            if (!inFence && !fence)
            {
                if (line.Length == 0) { blankRun++; continue; }
                line = CollapseSpaces(line);
            }
            if (sb.Length == 0) line = line.TrimStart(); // the text starts at its first character, not at indentation
            else sb.Append('\n', blankRun > 0 && !inFence ? 2 : 1);
            blankRun = 0;
            sb.Append(line);
            if (fence) inFence = !inFence;
        }
        return sb.ToString();
    }

    /// <summary>Most text has nothing to tidy; finding that out is one vectorised scan per pattern.</summary>
    static bool IsTidy(string text) =>
        !char.IsWhiteSpace(text[0]) && !char.IsWhiteSpace(text[^1]) && text.IndexOf('\t') < 0
        && !text.Contains("  ", StringComparison.Ordinal) && !text.Contains(" \n", StringComparison.Ordinal)
        && !text.Contains("\n\n\n", StringComparison.Ordinal);

    /// <summary>Keeps the indentation, turns each inner run of spaces and tabs into one space.</summary>
    static string CollapseSpaces(string line)
    {
        int indent = 0;
        while (indent < line.Length && line[indent] is ' ' or '\t') indent++;
        bool needs = false;
        for (int i = indent; i < line.Length - 1 && !needs; i++)
            needs = line[i] == '\t' || (line[i] == ' ' && line[i + 1] == ' ');
        if (!needs) return line;
        var sb = new StringBuilder(line.Length).Append(line, 0, indent);
        bool space = false;
        for (int i = indent; i < line.Length; i++)
        {
            if (line[i] is ' ' or '\t') { space = true; continue; }
            if (space) sb.Append(' ');
            space = false;
            sb.Append(line[i]);
        }
        return sb.ToString();
    }

    static bool IsFence(string line)
    {
        var trimmed = line.AsSpan().TrimStart(' ');
        return trimmed.StartsWith("```") || trimmed.StartsWith("~~~");
    }
}
