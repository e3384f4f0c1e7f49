using System.Text.Json.Serialization;

namespace ServerlessTune.Core.Data.Mapping;

/// <summary>
/// Messages: a list of turns (OpenAI messages, ShareGPT conversations, TRL prompt+completion lists). Columns: one
/// value per side (question/answer, prompt/completion, instruction+input/output). Text: language-modelling text, trained
/// as a passage. Transcript and Document: the plain-text formats, which have no fields to map.
/// </summary>
public enum MappingKind { Messages, Columns, Text, Transcript, Document }

/// <summary>
/// How one file's records become conversations, decided once per file from its header or first records, and shown
/// in stats.json and on stderr so nobody trains on the wrong column without seeing it.
/// </summary>
public sealed record RecordMapping
{
    public required MappingKind Kind { get; init; }

    /// <summary>Messages: the list keys read in order ("messages"; "conversations"; "prompt" then "completion").</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Lists { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? RoleKey { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? ContentKey { get; init; }
    /// <summary>Messages: the role names seen in the sampled records and the chat role each maps to.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, string>? Roles { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? User { get; init; }
    /// <summary>Appended to the user side after a blank line (Alpaca's input, Dolly's context).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Input { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Assistant { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? System { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Text { get; init; }
    /// <summary>Recognised and not trained on: record ids and categories (intent, tags, flags...).</summary>
    public IReadOnlyList<string> Metadata { get; init; } = [];
    public IReadOnlyList<string> Ignored { get; init; } = [];
    /// <summary>Columns with one value in every sampled record: never taken as the question or its input.</summary>
    public IReadOnlyList<string> Constant { get; init; } = [];
    public int SampledRecords { get; init; }
    /// <summary>Why no record of the file can be read (no column for one side): each is rejected with this message.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Unmapped { get; init; }
    /// <summary>How the mapping was decided ("by name", "by pipeline.json / flags", "no header row: columns 1 and 2").</summary>
    public string Decided { get; init; } = "by name";

    /// <summary>Every role name the messages are read with (defaults and prepare.roles); not part of stats.json.</summary>
    [JsonIgnore] public IReadOnlyDictionary<string, string> RoleNames { get; init; } = PrepareOptions.DefaultRoles;

    /// <summary>The whole-file OpenAI chat reading, for files whose first records say nothing else.</summary>
    public static RecordMapping OpenAiMessages(IReadOnlyDictionary<string, string> roleNames, int sampled = 0, string decided = "by name") => new()
    {
        Kind = MappingKind.Messages, Lists = ["messages"], RoleKey = "role", ContentKey = "content", RoleNames = roleNames,
        SampledRecords = sampled, Decided = decided,
    };

    /// <summary>One line for stderr: "columns: user=instruction + input=context, assistant=response; ignored flags; constant context".</summary>
    public string Describe()
    {
        var parts = new List<string>();
        switch (Kind)
        {
            case MappingKind.Messages:
                parts.Add($"messages: list {string.Join(" + ", Lists ?? [])}, turns {RoleKey}/{ContentKey}"
                    + (Roles is { Count: > 0 } ? ", roles " + string.Join(", ", Roles.Select(r => $"{r.Key}={r.Value}")) : ""));
                break;
            case MappingKind.Columns when Unmapped is not null:
                parts.Add("columns: none usable, every record rejected: " + Unmapped);
                break;
            case MappingKind.Columns:
                var sides = new List<string> { $"user={User}" + (Input is null ? "" : $" + input={Input}"), $"assistant={Assistant}" };
                if (System is not null) sides.Add($"system={System}");
                parts.Add("columns: " + string.Join(", ", sides));
                break;
            case MappingKind.Text:
                parts.Add($"text: column {Text}, trained as passages");
                break;
            default:
                parts.Add(Kind.ToString().ToLowerInvariant());
                break;
        }
        if (Metadata.Count > 0) parts.Add("not trained on " + string.Join(", ", Metadata));
        if (Ignored.Count > 0) parts.Add("ignored " + string.Join(", ", Ignored));
        if (Constant.Count > 0) parts.Add($"same value in all {SampledRecords} sampled records: {string.Join(", ", Constant)}");
        parts.Add(Decided);
        return string.Join("; ", parts);
    }
}
