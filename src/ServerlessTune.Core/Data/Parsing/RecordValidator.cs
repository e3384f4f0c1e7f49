using System.Text.Json;
using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Data.Mapping;

namespace ServerlessTune.Core.Data.Parsing;

/// <summary>
/// Turns one JSON record into a conversation by its file's <see cref="RecordMapping"/>, applying the checks of the
/// OpenAI fine-tuning data guide: the record is an object; its turns (messages, ShareGPT conversations, TRL prompt and
/// completion lists) have a known role and string content and no unknown keys; weight is 0 or 1; some assistant turn
/// exists. Pairs (question/answer, prompt/completion, instruction+input/output) become a user and an assistant turn.
/// </summary>
public static class RecordValidator
{
    public static ParseOutcome Validate(JsonElement root, RecordMapping mapping)
    {
        if (root.ValueKind != JsonValueKind.Object)
            return new Rejection(RejectReason.NotAnObject, $"record is a JSON {Describe(root.ValueKind)}, not an object");
        return mapping.Kind switch
        {
            MappingKind.Columns => Pair(root, mapping),
            MappingKind.Text => Text(root, mapping.Text!),
            _ => Turns(root, mapping),
        };
    }

    static ParseOutcome Turns(JsonElement root, RecordMapping mapping)
    {
        var lists = mapping.Lists ?? ["messages"];
        var result = new List<ChatMessage>();
        int index = 0;
        foreach (var name in lists)
        {
            if (!root.TryGetProperty(name, out var messages))
                return new Rejection(RejectReason.MissingMessages, lists.Count == 1 && name == "messages"
                    ? "no 'messages' list (nor a pair of fields this file's first records have)"
                    : $"no '{name}' list (this file's first records have one)");
            if (messages.ValueKind != JsonValueKind.Array)
                return new Rejection(RejectReason.MissingMessages, $"'{name}' is a {Describe(messages.ValueKind)}, not a list");
            foreach (var message in messages.EnumerateArray())
            {
                index++;
                var turn = Turn(message, index, mapping);
                if (turn.Rejection is { } rejection) return rejection;
                result.Add(turn.Message!);
            }
        }
        if (result.Count == 0)
            return new Rejection(RejectReason.MissingMessages, $"'{string.Join("' and '", lists)}' {(lists.Count == 1 ? "is an empty list" : "are empty lists")}");
        if (!result.Exists(m => m.Role == ChatMessage.Assistant))
            return new Rejection(RejectReason.NoAssistantMessage, "no assistant message");
        return new Conversation(result);
    }

    static (ChatMessage? Message, Rejection? Rejection) Turn(JsonElement message, int index, RecordMapping mapping)
    {
        string roleKey = mapping.RoleKey ?? "role", contentKey = mapping.ContentKey ?? "content";
        if (message.ValueKind != JsonValueKind.Object)
            return (null, new Rejection(RejectReason.MessageNotAnObject, $"message {index} is a {Describe(message.ValueKind)}, not an object"));
        // Null-valued keys count as absent: Parquet structs carry every field of the schema, null where unused.
        foreach (var property in message.EnumerateObject())
            if (property.Name != roleKey && property.Name != contentKey && property.Name is not ("name" or "weight") && property.Value.ValueKind != JsonValueKind.Null)
                return (null, new Rejection(RejectReason.UnrecognizedKey, $"message {index} has unrecognized key '{Clip(property.Name)}'"));
        if (!message.TryGetProperty(roleKey, out var role) || role.ValueKind == JsonValueKind.Null)
            return (null, new Rejection(RejectReason.MessageMissingRole, $"message {index} has no '{roleKey}'"));
        string? roleName = role.ValueKind == JsonValueKind.String ? mapping.RoleNames.GetValueOrDefault(role.GetString()!) : null;
        if (roleName is null)
            return (null, new Rejection(RejectReason.UnrecognizedRole, $"message {index} has unrecognized role {Clip(role.GetRawText())} (map it with pipeline.json prepare.roles or --role)"));
        if (!message.TryGetProperty(contentKey, out var content) || content.ValueKind == JsonValueKind.Null)
            return (null, new Rejection(RejectReason.MessageMissingContent, $"message {index} has no '{contentKey}'"));
        if (content.ValueKind != JsonValueKind.String)
            return (null, new Rejection(RejectReason.ContentNotAString, $"message {index} content is a {Describe(content.ValueKind)}, not a string"));
        int? weight = null;
        if (message.TryGetProperty("weight", out var w) && w.ValueKind != JsonValueKind.Null)
        {
            if (w.ValueKind != JsonValueKind.Number || !w.TryGetInt32(out int value) || value is not (0 or 1))
                return (null, new Rejection(RejectReason.InvalidWeight, $"message {index} weight must be 0 or 1, got {Clip(w.GetRawText())}"));
            if (roleName != ChatMessage.Assistant)
                return (null, new Rejection(RejectReason.InvalidWeight, $"message {index} has a weight but only assistant messages take one"));
            weight = value;
        }
        return (new ChatMessage(roleName, content.GetString()!, weight), null);
    }

    /// <summary>A pair of fields becomes one user turn (with its input appended) and one assistant turn, after an optional system turn.</summary>
    static ParseOutcome Pair(JsonElement root, RecordMapping mapping)
    {
        if (mapping.Unmapped is { } unmapped) return new Rejection(RejectReason.MissingColumn, unmapped);
        string user = mapping.User!, assistant = mapping.Assistant!;
        var texts = new Dictionary<string, string?>();
        foreach (var (key, required) in new[] { (user, true), (assistant, true), (mapping.Input, false), (mapping.System, false) })
        {
            if (key is null) continue;
            if (!root.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                if (required) return new Rejection(RejectReason.MessageMissingContent, $"'{user}'/'{assistant}' record has no '{key}'");
                continue;
            }
            if (value.ValueKind != JsonValueKind.String)
                return new Rejection(RejectReason.ContentNotAString, $"'{key}' is a {Describe(value.ValueKind)}, not a string");
            texts[key] = value.GetString();
        }
        string prompt = texts[user]!;
        if (FieldNames.Simplify(user) == "prompt") prompt = WithoutLegacySeparator(prompt);
        var messages = new List<ChatMessage>(3);
        if (mapping.System is { } system && !string.IsNullOrWhiteSpace(texts.GetValueOrDefault(system)))
            messages.Add(new ChatMessage(ChatMessage.System, texts[system]!));
        messages.Add(new ChatMessage(ChatMessage.User, DelimitedRow.WithInput(prompt, mapping.Input is { } input ? texts.GetValueOrDefault(input) : null)));
        messages.Add(new ChatMessage(ChatMessage.Assistant, texts[assistant]!));
        return new Conversation(messages);
    }

    static ParseOutcome Text(JsonElement root, string key)
    {
        if (!root.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
            return new Rejection(RejectReason.MessageMissingContent, $"text record has no '{key}'");
        if (value.ValueKind != JsonValueKind.String)
            return new Rejection(RejectReason.ContentNotAString, $"'{key}' is a {Describe(value.ValueKind)}, not a string");
        return new Conversation([new ChatMessage(ChatMessage.Assistant, value.GetString()!)], RecordKind.Passage);
    }

    /// <summary>Legacy GPT-3 prompts end with a fixed separator ("\n\n###\n\n", "->") the chat template makes redundant.</summary>
    static string WithoutLegacySeparator(string prompt)
    {
        string trimmed = prompt.TrimEnd();
        foreach (string separator in new[] { "###", "->" })
            if (trimmed.EndsWith(separator, StringComparison.Ordinal)) return trimmed[..^separator.Length];
        return prompt;
    }

    static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "list",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Null => "null",
        _ => "object",
    };

    /// <summary>User text quoted in a reject message: redacted first, so a secret is never half quoted.</summary>
    static string Clip(string s)
    {
        s = Redaction.Redactor.Redact(s).Text;
        return s.Length <= 40 ? s : s[..40] + "...";
    }
}
