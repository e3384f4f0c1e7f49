using System.Text.Json;
using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Common;

namespace ServerlessTune.Core.Evaluation;

/// <summary>Parses an OpenAI-format "messages" array into <see cref="ChatMessage"/>s.</summary>
public static class MessageList
{
    static readonly string[] Roles = [ChatMessage.System, ChatMessage.User, ChatMessage.Assistant];

    public static List<ChatMessage> Parse(JsonElement value, string key, string where)
    {
        if (value.ValueKind != JsonValueKind.Array)
            throw new UserInputException($"{where}: {key}: expected an array of messages, got {JsonFields.Describe(value)}");
        var messages = new List<ChatMessage>();
        foreach (var item in value.EnumerateArray())
        {
            var itemWhere = $"{where}: {key}[{messages.Count}]";
            JsonFields.RequireObject(item, itemWhere);
            var role = JsonFields.RequiredString(item, "role", itemWhere);
            if (!Roles.Contains(role, StringComparer.Ordinal))
                throw new UserInputException($"{itemWhere}: role: '{role}' is not one of {string.Join(", ", Roles)}");
            var content = JsonFields.RequiredString(item, "content", itemWhere);
            var weight = JsonFields.OptionalNumber(item, "weight", itemWhere);
            if (weight is not (null or 0 or 1))
                throw new UserInputException($"{itemWhere}: weight: must be 0 or 1");
            messages.Add(new ChatMessage(role, content, weight is null ? null : (int)weight));
        }
        return messages;
    }

    /// <summary>The text of the last user message: how a case's question reads in reports.</summary>
    public static string LastUserText(IReadOnlyList<ChatMessage> messages) =>
        messages.LastOrDefault(m => m.Role == ChatMessage.User)?.Content ?? "";
}
