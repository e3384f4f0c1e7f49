using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Common;

namespace ServerlessTune.Core.Evaluation;

/// <summary>
/// The questions every model answers. A suite file is a JSON array or JSONL of cases:
/// {"id": "...", "messages": [{"role","content"}...] | "question": "...", "references": ["..."],
///  "checks": {...}, "tags": ["..."]}. A case needs references or checks (or both); its conversation
/// must end with a user turn.
/// </summary>
public sealed record EvalSuite(string Source, IReadOnlyList<EvalCase> Cases)
{
    static readonly string[] Keys = ["id", "messages", "question", "references", "checks", "tags"];

    public static EvalSuite Load(string path) => FromRecords(JsonRecords.ReadArrayOrLines(path), path);

    public static EvalSuite Parse(TextReader reader, string source) => FromRecords(JsonRecords.ReadArrayOrLines(reader, source), source);

    static EvalSuite FromRecords(IReadOnlyList<LocatedJson> records, string source) =>
        new(source, IdentifiedRecords.Parse(records, ParseCase, Keys, $"{source}: the suite has no cases").Select(c => c.Value).ToList());

    static EvalCase ParseCase(LocatedJson record, string id)
    {
        var value = record.Value;
        var where = record.Where;

        var question = JsonFields.OptionalString(value, "question", where);
        var hasMessages = value.TryGetProperty("messages", out var messagesValue);
        if (hasMessages == (question is not null))
            throw new UserInputException($"{where}: give exactly one of 'messages' or 'question'");
        List<ChatMessage> messages;
        if (question is not null)
        {
            if (string.IsNullOrWhiteSpace(question))
                throw new UserInputException($"{where}: question: empty");
            messages = [new ChatMessage(ChatMessage.User, question)];
        }
        else
        {
            messages = MessageList.Parse(messagesValue, "messages", where);
            if (messages.Count == 0 || messages[^1].Role != ChatMessage.User)
                throw new UserInputException($"{where}: messages: the conversation must end with a user turn for the model to answer");
        }

        var references = JsonFields.OptionalStrings(value, "references", where) ?? [];
        var checks = value.TryGetProperty("checks", out var checksValue) ? CaseChecks.Parse(checksValue, $"{where}: checks") : CaseChecks.None;
        if (references.Count == 0 && checks.IsEmpty)
            throw new UserInputException($"{where}: the case has neither references nor checks, so nothing would be measured");
        var tags = JsonFields.OptionalStrings(value, "tags", where) ?? [];
        return new EvalCase(id, messages, references, checks, tags);
    }
}
