using ServerlessTune.Core.Common;

namespace ServerlessTune.Core.Evaluation;

/// <summary>
/// A scripted conversation: what the user says, turn by turn; each turn is answered by the model with the
/// whole conversation so far. A dialogue file is a JSON array or JSONL of
/// {"id": "...", "system": "..." (optional), "turns": ["first user message", "second", ...]}.
/// </summary>
public sealed record DialogueScript(string Id, string? System, IReadOnlyList<string> Turns)
{
    static readonly string[] Keys = ["id", "system", "turns"];

    public static IReadOnlyList<DialogueScript> Load(string path) => FromRecords(JsonRecords.ReadArrayOrLines(path), path);

    public static IReadOnlyList<DialogueScript> Parse(TextReader reader, string source) => FromRecords(JsonRecords.ReadArrayOrLines(reader, source), source);

    static IReadOnlyList<DialogueScript> FromRecords(IReadOnlyList<LocatedJson> records, string source) =>
        IdentifiedRecords.Parse(records, ParseScript, Keys, $"{source}: no dialogues").Select(d => d.Value).ToList();

    static DialogueScript ParseScript(LocatedJson record, string id)
    {
        var value = record.Value;
        var where = record.Where;
        var system = JsonFields.OptionalString(value, "system", where);
        var turns = JsonFields.OptionalStrings(value, "turns", where) ?? throw new UserInputException($"{where}: turns: missing");
        if (turns.Count == 0)
            throw new UserInputException($"{where}: turns: empty (a dialogue needs at least one user turn)");
        for (var i = 0; i < turns.Count; i++)
            if (string.IsNullOrWhiteSpace(turns[i]))
                throw new UserInputException($"{where}: turns[{i}]: empty");
        return new DialogueScript(id, system, turns);
    }
}
