using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Common;

namespace ServerlessTune.Core.Evaluation;

/// <summary>A record of the validation split that did not become a case, and why.</summary>
public sealed record SkippedRecord(int Line, string Reason);

public sealed record DerivedSuite(EvalSuite Suite, IReadOnlyList<SkippedRecord> Skipped);

/// <summary>
/// The default suite when the user gives none: each chat record of a prepared validation.jsonl becomes
/// a case whose conversation is everything before its last assistant turn and whose reference is that
/// turn. Records that cannot be questions (no "messages", e.g. document passages, or no user turn
/// before the last assistant turn) are skipped and listed, so every record is accounted for.
/// </summary>
public static class ValidationSuite
{
    public static DerivedSuite Derive(string path, int? maxCases = null)
    {
        using var reader = JsonRecords.OpenText(path);
        return Derive(reader, path, maxCases);
    }

    /// <param name="maxCases">Keep the first N cases in file order (the split is already shuffled by hash); the rest are skipped.</param>
    public static DerivedSuite Derive(TextReader reader, string source, int? maxCases = null)
    {
        if (maxCases is <= 0)
            throw new UserInputException($"max cases must be positive, got {maxCases}");
        var cases = new List<EvalCase>();
        var skipped = new List<SkippedRecord>();
        foreach (var record in JsonRecords.ReadLines(reader, source))
        {
            JsonFields.RequireObject(record.Value, record.Where);
            if (!record.Value.TryGetProperty("messages", out var messagesValue))
            {
                skipped.Add(new SkippedRecord(record.Line, "no messages (not a conversation)"));
                continue;
            }
            var messages = MessageList.Parse(messagesValue, "messages", record.Where);
            var last = messages.FindLastIndex(m => m.Role == ChatMessage.Assistant);
            if (last < 0)
            {
                skipped.Add(new SkippedRecord(record.Line, "no assistant turn"));
                continue;
            }
            var prompt = messages.Take(last).Select(m => m with { Weight = null }).ToList();
            if (prompt.Count == 0 || prompt[^1].Role != ChatMessage.User)
            {
                skipped.Add(new SkippedRecord(record.Line, "the last assistant turn does not follow a user turn"));
                continue;
            }
            if (cases.Count == maxCases)
            {
                skipped.Add(new SkippedRecord(record.Line, $"beyond the first {maxCases} cases"));
                continue;
            }
            cases.Add(new EvalCase($"validation-{record.Line}", prompt, [messages[last].Content], CaseChecks.None, ["validation"]));
        }
        if (cases.Count == 0)
            throw new UserInputException($"{source}: no record can be used as a question (skipped {skipped.Count})");
        return new DerivedSuite(new EvalSuite(source, cases), skipped);
    }
}
