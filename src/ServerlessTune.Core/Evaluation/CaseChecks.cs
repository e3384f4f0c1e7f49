using System.Text.Json;
using System.Text.RegularExpressions;
using ServerlessTune.Core.Common;

namespace ServerlessTune.Core.Evaluation;

/// <summary>
/// Per-case expectations on an answer, from a suite case's "checks" object:
/// {"must_contain": [..], "must_not_contain": [..], "regex": [..], "refusal_expected": true|false}
/// (a single string is accepted where a list is). Phrases match case-insensitively with whitespace runs
/// collapsed; regexes are .NET patterns, case-sensitive unless they say (?i); every regex must match.
/// refusal_expected true requires a refusal (<see cref="RefusalDetector"/>), false forbids one.
/// </summary>
public sealed record CaseChecks(
    IReadOnlyList<string> MustContain,
    IReadOnlyList<string> MustNotContain,
    IReadOnlyList<string> Regex,
    bool? RefusalExpected)
{
    public const string MustContainKey = "must_contain";
    public const string MustNotContainKey = "must_not_contain";
    public const string RegexKey = "regex";
    public const string RefusalExpectedKey = "refusal_expected";

    public static readonly CaseChecks None = new([], [], [], null);

    public bool IsEmpty => MustContain.Count == 0 && MustNotContain.Count == 0 && Regex.Count == 0 && RefusalExpected is null;

    public static CaseChecks Parse(JsonElement value, string where)
    {
        JsonFields.RequireObject(value, where);
        JsonFields.RejectUnknownKeys(value, where, MustContainKey, MustNotContainKey, RegexKey, RefusalExpectedKey);
        var checks = new CaseChecks(
            NonEmptyPhrases(value, MustContainKey, where),
            NonEmptyPhrases(value, MustNotContainKey, where),
            JsonFields.OptionalStrings(value, RegexKey, where) ?? [],
            JsonFields.OptionalBoolean(value, RefusalExpectedKey, where));
        for (var i = 0; i < checks.Regex.Count; i++)
        {
            try
            {
                _ = new Regex(checks.Regex[i], RegexOptions.CultureInvariant);
            }
            catch (ArgumentException ex)
            {
                throw new UserInputException($"{where}: {RegexKey}[{i}]: invalid regular expression: {ex.Message}", ex);
            }
        }
        return checks;
    }

    static IReadOnlyList<string> NonEmptyPhrases(JsonElement value, string key, string where)
    {
        var phrases = JsonFields.OptionalStrings(value, key, where) ?? [];
        for (var i = 0; i < phrases.Count; i++)
            if (string.IsNullOrWhiteSpace(phrases[i]))
                throw new UserInputException($"{where}: {key}[{i}]: empty phrase");
        return phrases;
    }
}
