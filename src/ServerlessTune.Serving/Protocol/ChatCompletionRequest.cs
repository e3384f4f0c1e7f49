using System.Text.Json;
using ServerlessTune.Core.Chat;

namespace ServerlessTune.Serving.Protocol;

/// <summary>POST /v1/chat/completions, validated. Fields OpenAI defines and this server has no use for are ignored.</summary>
public sealed record ChatCompletionRequest
{
    public required string Model { get; init; }
    public required IReadOnlyList<ChatMessage> Messages { get; init; }
    /// <summary>max_completion_tokens, else the older max_tokens; null = up to the context.</summary>
    public int? MaxTokens { get; init; }
    /// <summary>Which of the two fields gave MaxTokens, for error messages.</summary>
    public string MaxTokensParam { get; init; } = "max_completion_tokens";
    public required SamplingFields Sampling { get; init; }
    public bool Logprobs { get; init; }
    public int TopLogprobs { get; init; }
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();
    /// <summary>false keeps only counts in the conversation log; left out, the log keeps the (redacted) content.</summary>
    public bool? Store { get; init; }

    public static ChatCompletionRequest Parse(JsonElement root, ServingLimits limits)
    {
        var f = RequestFields.Root(root);
        var model = f.RequiredString("model");
        var maxTokens = f.Integer("max_completion_tokens", 1, limits.MaxNewTokens) ?? f.Integer("max_tokens", 1, limits.MaxNewTokens);
        var logprobs = f.Bool("logprobs") ?? false;
        var top = f.Integer("top_logprobs", 0, limits.MaxTopLogprobs);
        if (top is not null && !logprobs) throw ProtocolException.BadValue("top_logprobs", "needs logprobs set to true");
        return new ChatCompletionRequest
        {
            Model = model,
            Messages = ReadMessages(f, limits),
            MaxTokens = (int?)maxTokens,
            MaxTokensParam = f.Get("max_completion_tokens") is null && maxTokens is not null ? "max_tokens" : "max_completion_tokens",
            Sampling = SamplingFields.Read(f, limits),
            Logprobs = logprobs,
            TopLogprobs = (int)(top ?? 0),
            Metadata = f.Metadata("metadata"),
            Store = f.Bool("store"),
        };
    }

    static IReadOnlyList<ChatMessage> ReadMessages(RequestFields f, ServingLimits limits)
    {
        if (f.Get("messages") is not { } array)
            throw new ProtocolException(400, "messages: missing", "messages", "missing_required_parameter");
        if (array.ValueKind != JsonValueKind.Array) throw ProtocolException.BadType("messages", "an array of messages");
        int count = array.GetArrayLength();
        if (count == 0) throw ProtocolException.BadValue("messages", "at least one message");
        if (count > limits.MaxMessages) throw ProtocolException.BadValue("messages", $"at most {limits.MaxMessages} messages");
        var messages = new List<ChatMessage>(count);
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            string path = $"messages[{i}]";
            if (item.ValueKind != JsonValueKind.Object) throw ProtocolException.BadType(path, "a message object");
            var m = new RequestFields(item, path);
            var role = m.RequiredString("role") switch
            {
                "system" or "developer" => ChatMessage.System,
                "user" => ChatMessage.User,
                "assistant" => ChatMessage.Assistant,
                var other => throw ProtocolException.BadValue(m.PathOf("role"), $"'{other}' is not one of system, developer, user, assistant"),
            };
            messages.Add(new ChatMessage(role, Content(m, role)));
            i++;
        }
        return messages;
    }

    /// <summary>A string, or an array of text parts joined (the only part type a text model can read).</summary>
    static string Content(RequestFields m, string role)
    {
        var path = m.PathOf("content");
        if (m.Get("content") is not { } content)
            return role == ChatMessage.Assistant ? "" : throw new ProtocolException(400, $"{path}: missing", path, "missing_required_parameter");
        if (content.ValueKind == JsonValueKind.String) return content.GetString()!;
        if (content.ValueKind != JsonValueKind.Array) throw ProtocolException.BadType(path, "a string or an array of content parts");
        var text = new System.Text.StringBuilder();
        int j = 0;
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object) throw ProtocolException.BadType($"{path}[{j}]", "a content part object");
            var p = new RequestFields(part, $"{path}[{j}]");
            var type = p.RequiredString("type");
            if (type != "text") throw ProtocolException.BadValue(p.PathOf("type"), $"'{type}' parts are not supported by this model (only 'text')");
            text.Append(p.RequiredString("text"));
            j++;
        }
        return text.ToString();
    }
}
