using System.Text.RegularExpressions;

namespace ServerlessTune.Core.Evaluation;

/// <summary>The result of one expectation: Kind is a <see cref="CaseChecks"/> key, Expectation the phrase or pattern.</summary>
public sealed record CheckOutcome(string Kind, string Expectation, bool Passed, string Detail);

/// <summary>Applies <see cref="CaseChecks"/> to an answer.</summary>
public sealed partial class CheckRunner(TimeSpan regexTimeout)
{
    /// <summary>Long enough for any sane pattern on an answer; short enough that a catastrophic one cannot stall a run.</summary>
    public static readonly TimeSpan DefaultRegexTimeout = TimeSpan.FromSeconds(1);

    public CheckRunner() : this(DefaultRegexTimeout)
    {
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    public IReadOnlyList<CheckOutcome> Run(CaseChecks checks, string answer)
    {
        var outcomes = new List<CheckOutcome>();
        var text = Canonical(answer);
        foreach (var phrase in checks.MustContain)
        {
            var found = text.Contains(Canonical(phrase), StringComparison.OrdinalIgnoreCase);
            outcomes.Add(new CheckOutcome(CaseChecks.MustContainKey, phrase, found, found ? "found" : "missing"));
        }
        foreach (var phrase in checks.MustNotContain)
        {
            var found = text.Contains(Canonical(phrase), StringComparison.OrdinalIgnoreCase);
            outcomes.Add(new CheckOutcome(CaseChecks.MustNotContainKey, phrase, !found, found ? "present" : "absent"));
        }
        foreach (var pattern in checks.Regex)
            outcomes.Add(RunRegex(pattern, answer));
        if (checks.RefusalExpected is { } expected)
        {
            var refusal = RefusalDetector.FindRefusal(answer);
            var detail = refusal is null ? "answered" : $"refused (\"{refusal}\")";
            outcomes.Add(new CheckOutcome(CaseChecks.RefusalExpectedKey, expected ? "refusal" : "no refusal", expected == (refusal is not null), detail));
        }
        return outcomes;
    }

    CheckOutcome RunRegex(string pattern, string answer)
    {
        try
        {
            var matched = Regex.IsMatch(answer, pattern, RegexOptions.CultureInvariant, regexTimeout);
            return new CheckOutcome(CaseChecks.RegexKey, pattern, matched, matched ? "matched" : "no match");
        }
        catch (RegexMatchTimeoutException)
        {
            return new CheckOutcome(CaseChecks.RegexKey, pattern, false, $"timed out after {regexTimeout.TotalSeconds:0.###} s (simplify the pattern)");
        }
    }

    static string Canonical(string text) => Whitespace().Replace(text, " ").Trim();
}
