using System.Text.Json;
using ServerlessTune.Core.Chat;

namespace ServerlessTune.Core.Data.Parsing;

/// <summary>
/// Turns one JSON record into a conversation, applying the checks of the OpenAI fine-tuning data guide:
/// the record is an object with a messages list (or a legacy prompt/completion pair, or a FAQ
/// question/answer pair); each message has a known role and string content and no unknown keys; weight
/// is 0 or 1; some assistant message exists.
/// </summary>
public static class RecordValidator
{
    static readonly string[] MessageKeys = ["role", "content", "name", "weight"];

    public static ParseOutcome Validate(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
            return new Rejection(RejectReason.NotAnObject, $"record is a JSON {Describe(root.ValueKind)}, not an object");
        if (root.TryGetProperty("messages", out var messages)) return ValidateMessages(messages);
        if (root.TryGetProperty("prompt", out _) || root.TryGetProperty("completion", out _))
            return Pair(root, "prompt", "completion");
        if (root.TryGetProperty("question", out _) || root.TryGetProperty("answer", out _))
            return Pair(root, "question", "answer");
        return new Rejection(RejectReason.MissingMessages, "no 'messages' list (nor prompt/completion or question/answer)");
    }

    static ParseOutcome ValidateMessages(JsonElement messages)
    {
        if (messages.ValueKind != JsonValueKind.Array)
            return new Rejection(RejectReason.MissingMessages, $"'messages' is a {Describe(messages.ValueKind)}, not a list");
        var result = new List<ChatMessage>(messages.GetArrayLength());
        int index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            index++;
            if (message.ValueKind != JsonValueKind.Object)
                return new Rejection(RejectReason.MessageNotAnObject, $"message {index} is a {Describe(message.ValueKind)}, not an object");
            // Null-valued keys count as absent: Parquet structs carry every field of the schema, null where unused.
            foreach (var property in message.EnumerateObject())
                if (Array.IndexOf(MessageKeys, property.Name) < 0 && property.Value.ValueKind != JsonValueKind.Null)
                    return new Rejection(RejectReason.UnrecognizedKey, $"message {index} has unrecognized key '{Clip(property.Name)}'");
            if (!message.TryGetProperty("role", out var role) || role.ValueKind == JsonValueKind.Null)
                return new Rejection(RejectReason.MessageMissingRole, $"message {index} has no 'role'");
            string? roleName = role.ValueKind == JsonValueKind.String ? role.GetString() : null;
            if (roleName is not (ChatMessage.System or ChatMessage.User or ChatMessage.Assistant))
                return new Rejection(RejectReason.UnrecognizedRole, $"message {index} has unrecognized role {Clip(role.GetRawText())}");
            if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
                return new Rejection(RejectReason.MessageMissingContent, $"message {index} has no 'content'");
            if (content.ValueKind != JsonValueKind.String)
                return new Rejection(RejectReason.ContentNotAString, $"message {index} content is a {Describe(content.ValueKind)}, not a string");
            int? weight = null;
            if (message.TryGetProperty("weight", out var w) && w.ValueKind != JsonValueKind.Null)
            {
                if (w.ValueKind != JsonValueKind.Number || !w.TryGetInt32(out int value) || value is not (0 or 1))
                    return new Rejection(RejectReason.InvalidWeight, $"message {index} weight must be 0 or 1, got {Clip(w.GetRawText())}");
                if (roleName != ChatMessage.Assistant)
                    return new Rejection(RejectReason.InvalidWeight, $"message {index} has a weight but only assistant messages take one");
                weight = value;
            }
            result.Add(new ChatMessage(roleName, content.GetString()!, weight));
        }
        if (result.Count == 0)
            return new Rejection(RejectReason.MissingMessages, "'messages' is an empty list");
        if (!result.Exists(m => m.Role == ChatMessage.Assistant))
            return new Rejection(RejectReason.NoAssistantMessage, "no assistant message");
        return new Conversation(result);
    }

    /// <summary>A legacy prompt/completion or FAQ pair becomes one user turn and one assistant turn.</summary>
    static ParseOutcome Pair(JsonElement root, string userKey, string assistantKey)
    {
        foreach (string key in new[] { userKey, assistantKey })
        {
            if (!root.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
                return new Rejection(RejectReason.MessageMissingContent, $"'{userKey}'/'{assistantKey}' record has no '{key}'");
            if (value.ValueKind != JsonValueKind.String)
                return new Rejection(RejectReason.ContentNotAString, $"'{key}' is a {Describe(value.ValueKind)}, not a string");
        }
        string prompt = root.GetProperty(userKey).GetString()!;
        return new Conversation([
            new ChatMessage(ChatMessage.User, userKey == "prompt" ? WithoutLegacySeparator(prompt) : prompt),
            new ChatMessage(ChatMessage.Assistant, root.GetProperty(assistantKey).GetString()!),
        ]);
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

    static string Clip(string s) => s.Length <= 40 ? s : s[..40] + "...";
}
