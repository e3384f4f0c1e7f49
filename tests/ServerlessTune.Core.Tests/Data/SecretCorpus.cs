using System.Text;

namespace ServerlessTune.Core.Tests.Data;

/// <summary>
/// Generated credentials of every kind the detector knows, in the shapes the issuers document (prefixes, lengths,
/// alphabets), with random bodies from a seed: none is a real secret. Each comes in a sentence the way it shows up
/// in support tickets, with the placeholder the detector should leave.
/// </summary>
public sealed class SecretCorpus(int seed)
{
    const string Alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const string Base64 = Alnum + "+/";
    const string Base64Url = Alnum + "-_";

    readonly Random _random = new(seed);

    public sealed record Sample(string Placeholder, string Secret, string Text);

    string Chars(string alphabet, int length)
    {
        // Letters and digits both where the alphabet has both: a generated key has them, and the entropy test asks for both.
        bool mixed = alphabet.Any(char.IsAsciiDigit) && alphabet.Any(char.IsAsciiLetter);
        while (true)
        {
            var s = new string(Enumerable.Range(0, length).Select(_ => alphabet[_random.Next(alphabet.Length)]).ToArray());
            if (!mixed || (s.Any(char.IsAsciiDigit) && s.Any(char.IsAsciiLetter))) return s;
        }
    }

    static string B64Url(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public IEnumerable<Sample> Secrets()
    {
        string s;
        yield return new("[OPENAI_KEY]", s = "sk-" + Chars(Alnum, 48), $"My script fails with key {s}, can you check?");
        yield return new("[OPENAI_KEY]", s = "sk-proj-" + Chars(Base64Url, 120), $"OPENAI_API_KEY={s}");
        yield return new("[OPENAI_KEY]", s = "sk-svcacct-" + Chars(Base64Url, 80), $"The service account uses {s}.");
        yield return new("[HF_TOKEN]", s = "hf_" + Chars(Alnum, 34), $"I pasted my token {s} into the app");
        yield return new("[GITHUB_TOKEN]", s = "ghp_" + Chars(Alnum, 36), $"git clone https://{s}@github.com/acme/repo.git");
        yield return new("[GITHUB_TOKEN]", s = "gho_" + Chars(Alnum, 36), $"OAuth token: {s}");
        yield return new("[GITHUB_TOKEN]", s = "ghs_" + Chars(Alnum, 36), $"The Actions job printed {s}");
        yield return new("[GITHUB_TOKEN]", s = "github_pat_" + Chars(Alnum, 22) + "_" + Chars(Alnum, 59), $"export GH_TOKEN={s}");
        yield return new("[SLACK_TOKEN]", s = $"xoxb-{Chars("0123456789", 12)}-{Chars("0123456789", 13)}-{Chars(Alnum, 24)}", $"Our bot token is {s}");
        yield return new("[SLACK_TOKEN]", s = $"xoxp-{Chars("0123456789", 12)}-{Chars("0123456789", 12)}-{Chars("0123456789", 13)}-{Chars("abcdef0123456789", 32)}", $"user token {s}");
        yield return new("[SLACK_TOKEN]", s = $"https://hooks.slack.com/services/T{Chars(Alnum.ToUpperInvariant(), 8)}/B{Chars(Alnum.ToUpperInvariant(), 8)}/{Chars(Alnum, 24)}", $"Alerts go to {s} now.");
        yield return new("[AWS_ACCESS_KEY_ID]", s = "AKIA" + Chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16), $"aws_access_key_id = {s}");
        yield return new("[AWS_ACCESS_KEY_ID]", s = "ASIA" + Chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16), $"The temporary key {s} expired.");
        yield return new("[AWS_SECRET_KEY]", s = Chars(Base64, 40), $"aws_secret_access_key = {s}");
        yield return new("[AWS_SECRET_KEY]", s = Chars(Base64, 40), $"{{\"AccessKeyId\": \"x\", \"SecretAccessKey\": \"{s}\"}}");
        yield return new("[AZURE_STORAGE_KEY]", s = Chars(Base64, 86) + "==",
            $"DefaultEndpointsProtocol=https;AccountName=harborfiber;AccountKey={s};EndpointSuffix=core.windows.net");
        yield return new("[AZURE_SAS_SIGNATURE]", s = Uri.EscapeDataString(Convert.ToBase64String(Enumerable.Range(0, 32).Select(_ => (byte)_random.Next(256)).ToArray())),
            $"Download it from https://harborfiber.blob.core.windows.net/exports/a.csv?sv=2022-11-02&sp=r&se=2026-01-01T00:00:00Z&sig={s}");
        yield return new("[JWT]", s = $"{B64Url("{\"alg\":\"HS256\",\"typ\":\"JWT\"}")}.{B64Url($"{{\"sub\":\"{_random.Next()}\",\"name\":\"Jane\"}}")}.{Chars(Base64Url, 43)}",
            $"Authorization header had {s} in it");
        string body = string.Join('\n', Enumerable.Range(0, 6).Select(_ => Chars(Base64, 64)));
        yield return new("[PRIVATE_KEY]", body, $"Here is the key:\n-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\nthanks");
        body = string.Join('\n', Enumerable.Range(0, 4).Select(_ => Chars(Base64, 70)));
        yield return new("[PRIVATE_KEY]", body, $"-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----");
        body = string.Join('\n', Enumerable.Range(0, 3).Select(_ => Chars(Base64, 64)));
        yield return new("[PRIVATE_KEY]", body, $"pasted half a key -----BEGIN PRIVATE KEY-----\n{body}");
        yield return new("[PASSWORD]", s = Chars(Alnum, 10) + "!", $"my password={s} does not work");
        yield return new("[PASSWORD]", s = "Harbor" + _random.Next(1000, 9999) + "#", $"pwd: {s}");
        yield return new("[PASSWORD]", s = Chars(Alnum, 14), $"{{\"user\": \"jane\", \"password\": \"{s}\"}}");
        yield return new("[SECRET]", s = Chars(Alnum, 24), $"client_secret={s}");
        yield return new("[SECRET]", s = Chars(Alnum, 18), $"use token={s} for the API");
        yield return new("[SECRET]", s = Chars(Base64Url, 40), $"curl -H \"Authorization: Bearer {s}\" https://api.example.com");
        yield return new("[SECRET]", s = Chars(Alnum, 32), $"X-Session-Key: {s}");
        yield return new("[SECRET]", s = Chars("abcdef0123456789", 40), $"signing_key = \"{s}\"");
    }

    /// <summary>Personal data in the spellings that used to slip through (the pattern each needs is in PiiRedactor).</summary>
    public static IEnumerable<Sample> PersonalData()
    {
        foreach (var phone in new[] { "1-800-555-0199", "1 (800) 555-0199", "+1.800.555.0199", "800.555.0199", "+44 (0)20 7946 0958", "(+44) 20 7946 0958", "0044 20 7946 0958", "(02) 9876 5432" })
            yield return new("[PHONE]", phone, $"Call me back on {phone} please.");
        foreach (var card in new[] { "4111.1111.1111.1111", "4111\u20131111\u20131111\u20131111", "5555 5555 5555 4444", "3782 822463 10005" })
            yield return new("[CARD]", card, $"Charge {card} again.");
        foreach (var email in new[] { "müller@bücher.de", "用户@例子.广告", "δοκιμή@παράδειγμα.δοκιμή", "jose.niño@correo.es", "info@xn--bcher-kva.de" })
            yield return new("[EMAIL]", email, $"Write to {email} for the invoice.");
    }
}
