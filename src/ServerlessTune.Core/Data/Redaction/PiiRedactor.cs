using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace ServerlessTune.Core.Data.Redaction;

public enum PiiType { Email, Phone, Card, Iban, Ip, Ssn }

/// <summary>
/// Stage 3: replaces personal data with typed placeholders ([EMAIL], [PHONE], [CARD], [IBAN], [IP], [SSN]).
/// Numbers are only redacted when their structure says what they are: cards must pass Luhn, IBANs
/// mod-97 and their country's length, phone numbers need an international prefix, a trunk '0', an area
/// code in parentheses or the North American 3-3-4 shape, so order ids and dates are left alone.
/// IBANs run before cards and phones, whose patterns would otherwise eat their digits.
/// </summary>
public static partial class PiiRedactor
{
    public static readonly int TypeCount = Enum.GetValues<PiiType>().Length;

    static readonly string[] Placeholders = [.. Enum.GetValues<PiiType>().Select(type => "[" + type.ToString().ToUpperInvariant() + "]")];

    public static string Placeholder(PiiType type) => Placeholders[(int)type];

    // Local parts and domains in any script (RFC 6531 addresses such as müller@bücher.de or 用户@例子.广告), punycode TLDs too.
    [GeneratedRegex(@"(?<![\p{L}\p{M}\p{N}._%+-])[\p{L}\p{M}\p{N}._%+-]+@[\p{L}\p{M}\p{N}-]+(?:\.[\p{L}\p{M}\p{N}-]+)*\.(?:\p{L}[\p{L}\p{M}]{1,23}|xn--[a-z0-9-]{1,59})(?![\p{L}\p{M}\p{N}])")]
    private static partial Regex Email();

    // Typed by hand, IBANs are often lower case; mod-97 and the country's length still decide.
    [GeneratedRegex(@"\b[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}\b")]
    private static partial Regex IbanCandidate();

    // Groups separated by spaces, hyphens, dots or en dashes, as people type them.
    [GeneratedRegex(@"(?<![\d+.\u2013-])[2-6](?:[ .\u2013-]?\d){12,18}(?![\d\u2013-]|\.\d)")]
    private static partial Regex CardCandidate();

    [GeneratedRegex(@"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])")]
    private static partial Regex Ssn();

    [GeneratedRegex(@"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\d|\.\d)")]
    private static partial Regex Ipv4();

    [GeneratedRegex(@"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")]
    private static partial Regex Ipv6Candidate();

    [GeneratedRegex(@"(?<![\w+#/.-])(?:\(\+\d{1,3}\)[ .-]?|\+?\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,12}(?:[ .-]\d{1,8}){0,5}(?![\w/-]|[.:]\d)")]
    private static partial Regex PhoneCandidate();

    [GeneratedRegex(@"^\d{3}-\d{2}-\d{4}$")]
    private static partial Regex SsnShape();

    // The North American 3-3-4 shape, with or without the country code 1 in front (1-800-555-0199, 1 (800) 555 0199).
    [GeneratedRegex(@"^(?:1[ .-]?)?\(?[2-9]\d{2}\)?[ .-]?\d{3}[ .-]\d{4}$")]
    private static partial Regex NorthAmerican();

    /// <summary>Redacts <paramref name="text"/> and adds what it found to <paramref name="counts"/> (indexed by <see cref="PiiType"/>).</summary>
    public static string Redact(string text, int[] counts)
    {
        if (text.IndexOf('@') >= 0) text = Replace(text, Email(), PiiType.Email, counts, Whole);
        // Every numeric kind needs a minimum of digits in one number (an IPv4 address 4, a phone number 8, an SSN 9,
        // a card 13), and most text has too few to look. Redacting never lengthens a number, so counting once is exact.
        var (digits, longest) = CountDigits(text);
        if (longest >= 4 && text.IndexOf('.') >= 0) text = Replace(text, Ipv4(), PiiType.Ip, counts, Whole);
        if (text.Contains("::", StringComparison.Ordinal) || text.AsSpan().Count(':') >= 7) text = Replace(text, Ipv6Candidate(), PiiType.Ip, counts, WholeIf(IsIpv6));
        if (digits < 8) return text;
        if (MayHoldIban(text)) text = Replace(text, IbanCandidate(), PiiType.Iban, counts, IbanPrefix);
        if (longest >= 13) text = Replace(text, CardCandidate(), PiiType.Card, counts, WholeIf(Checksums.Luhn));
        if (longest >= 9) text = Replace(text, Ssn(), PiiType.Ssn, counts, Whole);
        return longest >= 8 ? Replace(text, PhoneCandidate(), PiiType.Phone, counts, WholeIf(IsPhone)) : text;
    }

    /// <summary>An IBAN starts with two letters and two digits ("DE89"): without that, its regex need not try every word.</summary>
    static bool MayHoldIban(string text)
    {
        var span = text.AsSpan();
        for (int i; (i = span.IndexOfAnyInRange('0', '9')) >= 0; span = span[(i + 1)..])
            if (i >= 2 && char.IsAsciiLetter(span[i - 1]) && char.IsAsciiLetter(span[i - 2]) && i + 1 < span.Length && char.IsAsciiDigit(span[i + 1]))
                return true;
        return false;
    }

    // What joins the digits of one number as people type them: "+1 (800) 555-0199", "4111 1111", "2001.03".
    static readonly SearchValues<char> NumberSeparators = SearchValues.Create(" .-()+\u2013");

    /// <summary>
    /// The text's digits, and the most digits of one number: digits joined by at most three separators, the widest
    /// gap the patterns allow (") (" between a country and an area code).
    /// </summary>
    static (int Digits, int Longest) CountDigits(string text)
    {
        int count = 0, run = 0, longest = 0, last = -1;
        for (int from = 0, i; (i = text.AsSpan(from).IndexOfAnyInRange('0', '9')) >= 0; from = last + 1)
        {
            i += from;
            count++;
            var gap = text.AsSpan(last + 1, i - last - 1);
            run = last >= 0 && gap.Length <= 3 && !gap.ContainsAnyExcept(NumberSeparators) ? run + 1 : 1;
            longest = Math.Max(longest, run);
            last = i;
        }
        return (count, longest);
    }

    /// <summary>How many leading characters of a regex candidate are personal data: 0 when it is not.</summary>
    delegate int Confirm(ReadOnlySpan<char> candidate);

    static int Whole(ReadOnlySpan<char> candidate) => candidate.Length;

    static Confirm WholeIf(Func<ReadOnlySpan<char>, bool> check) => candidate => check(candidate) ? candidate.Length : 0;

    /// <summary>Replaces what <paramref name="confirm"/> confirms of each candidate, looked at in place: most candidates are plain numbers.</summary>
    static string Replace(string text, Regex regex, PiiType type, int[] counts, Confirm confirm)
    {
        var redacted = new RedactedText(text);
        foreach (var match in regex.EnumerateMatches(text))
        {
            int length = confirm(text.AsSpan(match.Index, match.Length));
            if (length == 0) continue;
            redacted.Replace(match.Index, length, Placeholder(type));
            counts[(int)type]++;
        }
        return redacted.Result();
    }

    /// <summary>
    /// The IBAN at the start of a candidate, which may run on into following words: the country's IBAN length
    /// says where it ends, and that end must fall between groups; 0 unless mod-97 confirms it.
    /// </summary>
    static int IbanPrefix(ReadOnlySpan<char> candidate)
    {
        int length = Checksums.IbanLength(candidate[..2]);
        if (length == 0) return 0;
        Span<char> compact = stackalloc char[length];
        int taken = 0, end = 0;
        for (; end < candidate.Length && taken < length; end++)
            if (candidate[end] != ' ') compact[taken++] = candidate[end];
        if (taken < length || (end < candidate.Length && candidate[end] != ' ')) return 0;
        return Checksums.IbanMod97(compact) ? end : 0;
    }

    static bool IsIpv6(ReadOnlySpan<char> candidate) =>
        candidate.Length >= 6 && IPAddress.TryParse(candidate, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6;

    static bool IsPhone(ReadOnlySpan<char> candidate)
    {
        int digits = 0;
        foreach (char c in candidate) if (char.IsAsciiDigit(c)) digits++;
        if (candidate[0] == '+') return digits is >= 8 and <= 15;
        if (candidate.StartsWith("00")) return digits is >= 10 and <= 17; // 00 is the international prefix outside North America
        if (digits is < 9 or > 12) return false;
        if (NorthAmerican().IsMatch(candidate)) return true;
        if (candidate[0] == '(') return true;
        if (candidate[0] != '0' || SsnShape().IsMatch(candidate)) return false;
        // National numbers with a trunk '0' use one separator throughout; mixing (05.03.2024 14) is a date and time.
        int first = candidate.IndexOfAny(' ', '.', '-');
        if (first < 0) return false;
        foreach (char c in candidate)
            if (!char.IsAsciiDigit(c) && c != candidate[first]) return false;
        return true;
    }
}
