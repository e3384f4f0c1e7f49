using System.Buffers;
using System.Text.RegularExpressions;

namespace ServerlessTune.Core.Data.Redaction;

public enum SecretType
{
    OpenAiKey, HuggingFaceToken, GitHubToken, SlackToken, AwsAccessKeyId, AwsSecretKey, AzureStorageKey, AzureSasSignature,
    Jwt, PrivateKey, Password, Secret,
}

/// <summary>
/// Finds credentials and replaces each with a placeholder naming its kind ([OPENAI_KEY], [GITHUB_TOKEN], [PRIVATE_KEY]...).
/// Token formats are matched by their documented prefixes and lengths (OpenAI sk- and sk-proj-, Hugging Face hf_, GitHub
/// ghp_/gho_/ghu_/ghs_/ghr_/github_pat_, Slack xox?- and webhooks, AWS key ids, JWTs, PEM private-key blocks); secrets
/// without a format of their own are found by what names them: Azure AccountKey= and SAS sig=, a 40-character value
/// next to an AWS/secret key name, Bearer/Basic credentials, and assignments (name=value, name: value, "name": "value")
/// whose name says password, secret or token, or says key/auth/session/cookie/salt/credential and whose value has the
/// entropy of a generated secret. A rule runs only when one of its trigger strings occurs, so most texts cost one scan.
/// </summary>
public static partial class SecretDetector
{
    public static readonly int TypeCount = Enum.GetValues<SecretType>().Length;

    static readonly string[] Placeholders =
    [
        "[OPENAI_KEY]", "[HF_TOKEN]", "[GITHUB_TOKEN]", "[SLACK_TOKEN]", "[AWS_ACCESS_KEY_ID]", "[AWS_SECRET_KEY]", "[AZURE_STORAGE_KEY]",
        "[AZURE_SAS_SIGNATURE]", "[JWT]", "[PRIVATE_KEY]", "[PASSWORD]", "[SECRET]",
    ];

    public static string Placeholder(SecretType type) => Placeholders[(int)type];

    /// <summary>Every placeholder this detector writes, so later stages can tell them from the text's own.</summary>
    public static IReadOnlyList<string> AllPlaceholders => Placeholders;

    // Through its END line; without one (a paste cut short), through the base64 lines and headers that follow BEGIN.
    [GeneratedRegex(@"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:(?:(?!-----BEGIN)[\s\S])*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|(?:\s*(?:[A-Za-z0-9+/=]{16,}|[A-Za-z-]+:[^\n]*))*)")]
    private static partial Regex PemPrivateKey();

    // The tail of a key block whose BEGIN line went to another record (a document cut between passages).
    [GeneratedRegex(@"(?m)(?:^[A-Za-z0-9+/=]{16,}[ \t]*\r?\n)+-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")]
    private static partial Regex PemPrivateKeyTail();

    [GeneratedRegex(@"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")]
    private static partial Regex Jwt();

    // Legacy keys are sk- and 48 letters and digits; project, service-account and admin keys carry a kind and run longer.
    [GeneratedRegex(@"\bsk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{32,}\b)")]
    private static partial Regex OpenAiKey();

    [GeneratedRegex(@"\bhf_[A-Za-z0-9]{30,}\b")]
    private static partial Regex HuggingFaceToken();

    [GeneratedRegex(@"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b")]
    private static partial Regex GitHubToken();

    [GeneratedRegex(@"\bxox[abprs]-[A-Za-z0-9-]{10,}|https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+")]
    private static partial Regex SlackToken();

    [GeneratedRegex(@"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z0-9]{16}\b")]
    private static partial Regex AwsAccessKeyId();

    [GeneratedRegex(@"(?i:aws|secret)[\w .-]{0,30}?[""']?[ \t]*[:=][ \t]*[""']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])")]
    private static partial Regex AwsSecretKey();

    [GeneratedRegex(@"(?i)\b(?:AccountKey|SharedAccessKey)[ \t]*=[ \t]*([A-Za-z0-9+/]{20,}={0,2})")]
    private static partial Regex AzureStorageKey();

    [GeneratedRegex(@"(?i)(?<![A-Za-z0-9])sig=([A-Za-z0-9%+/=]{16,})")]
    private static partial Regex AzureSasSignature();

    [GeneratedRegex(@"\b(?:[Bb]earer|[Bb]asic)[ \t]+([A-Za-z0-9_.~+/-]{8,}=*)")]
    private static partial Regex AuthorizationCredential();

    sealed record Rule(SecretType Type, Regex Pattern, string[] Triggers, Func<string, bool>? Confirm = null)
    {
        public SearchValues<string> Search { get; } = SearchValues.Create(Triggers, StringComparison.OrdinalIgnoreCase);
    }

    // Multi-line and long formats first, so no shorter rule takes a piece of them.
    static readonly Rule[] Rules =
    [
        new(SecretType.PrivateKey, PemPrivateKey(), ["-----BEGIN"]),
        new(SecretType.PrivateKey, PemPrivateKeyTail(), ["-----END"]),
        new(SecretType.Jwt, Jwt(), ["eyJ"]),
        new(SecretType.OpenAiKey, OpenAiKey(), ["sk-"]),
        new(SecretType.HuggingFaceToken, HuggingFaceToken(), ["hf_"]),
        new(SecretType.GitHubToken, GitHubToken(), ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"]),
        new(SecretType.SlackToken, SlackToken(), ["xox", "hooks.slack.com"]),
        new(SecretType.AwsAccessKeyId, AwsAccessKeyId(), ["AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "AROA", "APKA"]),
        new(SecretType.AzureStorageKey, AzureStorageKey(), ["AccountKey", "SharedAccessKey"]),
        new(SecretType.AzureSasSignature, AzureSasSignature(), ["sig="]),
        new(SecretType.AwsSecretKey, AwsSecretKey(), ["aws", "secret"]),
        new(SecretType.Secret, AuthorizationCredential(), ["bearer", "basic"], LooksGenerated),
    ];

    static readonly string[] AssignmentWords = ["pass", "pwd", "secret", "token", "key", "auth", "sig", "session", "cookie", "salt", "cred", "private"];

    static readonly SearchValues<string> AssignmentTriggers = SearchValues.Create(AssignmentWords, StringComparison.OrdinalIgnoreCase);

    static readonly SearchValues<string> AnyTrigger = SearchValues.Create(
        [.. Rules.SelectMany(r => r.Triggers), .. AssignmentWords], StringComparison.OrdinalIgnoreCase);

    /// <summary>Redacts <paramref name="text"/> and adds what it found to <paramref name="counts"/> (indexed by <see cref="SecretType"/>).</summary>
    public static string Redact(string text, int[] counts)
    {
        int first = text.AsSpan().IndexOfAny(AnyTrigger);
        if (first < 0) return text;
        // Every trigger is one of AnyTrigger's, so none starts before the first hit: the rules' scans start there (text with
        // "key" in every sentence ran a dozen whole scans). A rule that rewrites the text starts them over at 0: its
        // placeholders move what follows and may hold a trigger themselves ([AWS_SECRET_KEY]).
        foreach (var rule in Rules)
        {
            if (text.AsSpan(first).IndexOfAny(rule.Search) < 0) continue;
            var redacted = Replace(text, rule, counts);
            if (!ReferenceEquals(redacted, text)) (text, first) = (redacted, 0);
        }
        return text.AsSpan(first).IndexOfAny(AssignmentTriggers) >= 0 ? RedactAssignments(text, counts) : text;
    }

    static string Replace(string text, Rule rule, int[] counts)
    {
        var redacted = new RedactedText(text);
        foreach (Match match in rule.Pattern.Matches(text))
        {
            // A rule with a capture group redacts the value it captured and keeps the name that gave it away.
            var secret = match.Groups.Count > 1 ? match.Groups[1] : match.Groups[0];
            if (rule.Confirm is { } confirm && !confirm(secret.Value)) continue;
            redacted.Replace(secret.Index, secret.Length, Placeholder(rule.Type));
            counts[(int)rule.Type]++;
        }
        return redacted.Result();
    }

    /// <summary>
    /// name=value, name: value, "name": "value", name =&gt; value: found from each ':' or '=' (cheap to look for),
    /// reading the name to its left and the value to its right.
    /// </summary>
    static string RedactAssignments(string text, int[] counts)
    {
        var redacted = new RedactedText(text);
        int from = 0;
        while (from < text.Length)
        {
            int at = text.AsSpan(from).IndexOfAny(':', '=');
            if (at < 0) break;
            at += from;
            int next = at + 1;
            if (next < text.Length && (text[next] == '>' || (text[at] == ':' && text[next] == '='))) next++;
            else if (next < text.Length && text[next] == '=') { from = next + 1; continue; } // a comparison, not an assignment
            from = next;
            var name = NameBefore(text, at);
            if (name.Length == 0) continue;
            var (start, length, quoted) = ValueAfter(text, next);
            if (length == 0) continue;
            var value = text.AsSpan(start, length);
            var type = Classify(name, value, quoted, byColon: text[at] == ':');
            if (type is null) continue;
            redacted.Replace(start, length, Placeholder(type.Value));
            counts[(int)type.Value]++;
            from = start + length;
        }
        return redacted.Result();
    }

    static ReadOnlySpan<char> NameBefore(string text, int separator)
    {
        int end = separator;
        while (end > 0 && text[end - 1] is ' ' or '\t') end--;
        if (end > 0 && text[end - 1] is '"' or '\'') end--;
        int start = end;
        while (start > 0 && end - start < 64 && IsNameChar(text[start - 1])) start--;
        return text.AsSpan(start, end - start);
    }

    static (int Start, int Length, bool Quoted) ValueAfter(string text, int from)
    {
        int i = from;
        while (i < text.Length && text[i] is ' ' or '\t') i++;
        if (i < text.Length && text[i] is '"' or '\'')
        {
            int close = text.IndexOf(text[i], i + 1);
            int newline = text.IndexOf('\n', i + 1);
            if (close < 0 || (newline >= 0 && newline < close) || close - i - 1 > 256) return (i, 0, true);
            return (i + 1, close - i - 1, true);
        }
        int end = i;
        while (end < text.Length && end - i < 256 && !char.IsWhiteSpace(text[end]) && text[end] is not ('"' or '\'' or ',' or ';' or '&' or '<' or '>' or '(' or ')' or '[' or ']' or '{' or '}'))
            end++;
        // A sentence that ends right after the value: its full stop is not part of it.
        while (end > i && text[end - 1] == '.') end--;
        return (i, end - i, false);
    }

    static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.';

    static SecretType? Classify(ReadOnlySpan<char> name, ReadOnlySpan<char> value, bool quoted, bool byColon)
    {
        if (value[0] is '[' or '{' or '<' or '$' or '%') return null; // a placeholder or template variable, not a value
        if (value.Equals("true", StringComparison.OrdinalIgnoreCase) || value.Equals("false", StringComparison.OrdinalIgnoreCase)
            || value.Equals("null", StringComparison.OrdinalIgnoreCase) || value.Equals("none", StringComparison.OrdinalIgnoreCase))
            return null;
        SecretType? named = Contains(name, "pass") || EndsWith(name, "pwd") ? SecretType.Password
            : Contains(name, "secret") || Contains(name, "token") || Contains(name, "apikey") || Contains(name, "api_key") || Contains(name, "api-key")
                ? SecretType.Secret
            : null;
        if (named is not null)
        {
            // "password: printed on the sticker" is prose; a colon only introduces a secret that looks like one.
            if (byColon && !quoted && (value.Length < 4 || !LooksLikeCredential(value))) return null;
            return value.Length >= 3 ? named : null;
        }
        bool credentialName = Contains(name, "key") || Contains(name, "auth") || Contains(name, "sig") || Contains(name, "session")
            || Contains(name, "cookie") || Contains(name, "salt") || Contains(name, "cred") || Contains(name, "private");
        return credentialName && HighEntropy(value) ? SecretType.Secret : null;
    }

    static bool Contains(ReadOnlySpan<char> name, string part) => name.Contains(part, StringComparison.OrdinalIgnoreCase);

    static bool EndsWith(ReadOnlySpan<char> name, string part) => name.EndsWith(part, StringComparison.OrdinalIgnoreCase);

    /// <summary>A digit, a symbol, or a capital after the first letter: what a password has and a prose word does not.</summary>
    static bool LooksLikeCredential(ReadOnlySpan<char> value)
    {
        for (int i = 0; i < value.Length; i++)
            if (!char.IsLetter(value[i]) || (i > 0 && char.IsUpper(value[i]))) return true;
        return false;
    }

    static bool LooksGenerated(string value) => LooksLikeCredential(value.AsSpan(1)) || value.AsSpan().IndexOfAnyInRange('0', '9') >= 0;

    /// <summary>
    /// A generated secret: at least 16 characters mixing letters and digits, with the per-character Shannon entropy of
    /// random text (3.5 bits; 3.0 for 32 or more hex digits, whose alphabet has only 16 symbols).
    /// </summary>
    internal static bool HighEntropy(ReadOnlySpan<char> value)
    {
        if (value.Length < 16) return false;
        bool letter = false, digit = false, hexOnly = true;
        Span<int> seen = stackalloc int[128];
        foreach (char c in value)
        {
            if (c >= 128) return false;
            seen[c]++;
            letter |= char.IsAsciiLetter(c);
            digit |= char.IsAsciiDigit(c);
            hexOnly &= char.IsAsciiHexDigit(c);
        }
        if (!letter || !digit) return false;
        double entropy = 0;
        foreach (int count in seen)
        {
            if (count == 0) continue;
            double p = (double)count / value.Length;
            entropy -= p * Math.Log2(p);
        }
        return entropy >= (hexOnly && value.Length >= 32 ? 3.0 : 3.5);
    }
}
