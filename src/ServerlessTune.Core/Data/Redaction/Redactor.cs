namespace ServerlessTune.Core.Data.Redaction;

/// <summary>What <see cref="Redactor.Redact"/> made of a text: the text with placeholders, and how many of each kind it replaced.</summary>
public sealed record RedactionResult(string Text, IReadOnlyDictionary<string, int> Counts)
{
    public bool Changed => Counts.Count > 0;
}

/// <summary>
/// The one entry point for anything that stores user text (data preparation, the serving conversation log):
/// secrets always go (credentials are never useful to keep), personal data unless the caller opts out. Secrets run
/// first, so the digits of a key are never half taken by a phone or card pattern.
/// </summary>
public static class Redactor
{
    /// <summary>Placeholder names ("OPENAI_KEY", "EMAIL"...), as counted in stats.json.</summary>
    public static string KindName(SecretType type) => SecretDetector.Placeholder(type)[1..^1];

    public static string KindName(PiiType type) => PiiRedactor.Placeholder(type)[1..^1];

    public static RedactionResult Redact(string text, bool personalData = true)
    {
        var secrets = new int[SecretDetector.TypeCount];
        var pii = new int[PiiRedactor.TypeCount];
        text = Redact(text, secrets, personalData ? pii : null);
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var type in Enum.GetValues<SecretType>()) if (secrets[(int)type] > 0) counts[KindName(type)] = secrets[(int)type];
        foreach (var type in Enum.GetValues<PiiType>()) if (pii[(int)type] > 0) counts[KindName(type)] = pii[(int)type];
        return new RedactionResult(text, counts);
    }

    /// <summary>The allocation-free form for hot loops: adds to counts indexed by <see cref="SecretType"/> and <see cref="PiiType"/>.</summary>
    public static string Redact(string text, int[] secretCounts, int[]? piiCounts)
    {
        text = SecretDetector.Redact(text, secretCounts);
        return piiCounts is null ? text : PiiRedactor.Redact(text, piiCounts);
    }
}
