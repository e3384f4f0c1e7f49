namespace ServerlessTune.Core.Data.Redaction;

/// <summary>The check-digit algorithms that tell a real card number or IBAN from any long number.</summary>
public static class Checksums
{
    /// <summary>Luhn (ISO/IEC 7812) over the digits of <paramref name="text"/>, ignoring separators.</summary>
    public static bool Luhn(ReadOnlySpan<char> text)
    {
        int sum = 0, count = 0;
        for (int i = text.Length - 1; i >= 0; i--)
        {
            if (!char.IsAsciiDigit(text[i])) continue;
            int d = text[i] - '0';
            if (count++ % 2 == 1) { d *= 2; if (d > 9) d -= 9; }
            sum += d;
        }
        return count > 0 && sum % 10 == 0;
    }

    /// <summary>ISO 13616 mod-97 over a compact IBAN (no spaces): move the first four characters to the end, letters to 10..35.</summary>
    public static bool IbanMod97(ReadOnlySpan<char> iban)
    {
        if (iban.Length < 5) return false;
        int remainder = 0;
        for (int i = 0; i < iban.Length; i++)
        {
            char c = char.ToUpperInvariant(iban[(i + 4) % iban.Length]);
            if (char.IsAsciiDigit(c)) remainder = (remainder * 10 + (c - '0')) % 97;
            else if (char.IsAsciiLetterUpper(c)) remainder = (remainder * 100 + (c - 'A' + 10)) % 97;
            else return false;
        }
        return remainder == 1;
    }

    /// <summary>IBAN length per country (ISO 13616 registry); a country not listed is not an IBAN.</summary>
    public static int IbanLength(ReadOnlySpan<char> country) => IbanLengths.GetValueOrDefault(country.ToString().ToUpperInvariant());

    static readonly Dictionary<string, int> IbanLengths = new()
    {
        ["AD"] = 24, ["AE"] = 23, ["AL"] = 28, ["AT"] = 20, ["AZ"] = 28, ["BA"] = 20, ["BE"] = 16, ["BG"] = 22, ["BH"] = 22,
        ["BR"] = 29, ["CH"] = 21, ["CR"] = 22, ["CY"] = 28, ["CZ"] = 24, ["DE"] = 22, ["DK"] = 18, ["DO"] = 28, ["EE"] = 20,
        ["EG"] = 29, ["ES"] = 24, ["FI"] = 18, ["FO"] = 18, ["FR"] = 27, ["GB"] = 22, ["GE"] = 22, ["GI"] = 23, ["GL"] = 18,
        ["GR"] = 27, ["GT"] = 28, ["HR"] = 21, ["HU"] = 28, ["IE"] = 22, ["IL"] = 23, ["IS"] = 26, ["IT"] = 27, ["JO"] = 30,
        ["KW"] = 30, ["KZ"] = 20, ["LB"] = 28, ["LI"] = 21, ["LT"] = 20, ["LU"] = 20, ["LV"] = 21, ["MC"] = 27, ["MD"] = 24,
        ["ME"] = 22, ["MK"] = 19, ["MR"] = 27, ["MT"] = 31, ["MU"] = 30, ["NL"] = 18, ["NO"] = 15, ["PK"] = 24, ["PL"] = 28,
        ["PS"] = 29, ["PT"] = 25, ["QA"] = 29, ["RO"] = 24, ["RS"] = 22, ["SA"] = 24, ["SE"] = 24, ["SI"] = 19, ["SK"] = 24,
        ["SM"] = 27, ["TN"] = 24, ["TR"] = 26, ["UA"] = 29, ["VG"] = 24, ["XK"] = 20,
    };
}
