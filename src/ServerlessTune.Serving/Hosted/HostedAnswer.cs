using System.Text;
using System.Text.Json;
using ServerlessTune.Core.Feedback;
using ServerlessTune.Serving.Logging;
using ServerlessTune.Serving.Protocol;
using ChatMessage = ServerlessTune.Core.Chat.ChatMessage;

namespace ServerlessTune.Serving.Hosted;

/// <summary>
/// A forwarded request on its way to the conversation log: what the client asked (read with our own request parsers,
/// so the record is the one an open model's answer makes) and what the service answered, read from the response once it
/// is complete, a plain body or an event stream alike, under the service's own completion id.
/// </summary>
sealed class HostedAnswer
{
    readonly string endpoint;
    readonly IReadOnlyList<ChatMessage>? messages;
    readonly IReadOnlyList<string>? prompts;

    HostedAnswer(CompletionTrace trace, string endpoint, IReadOnlyList<ChatMessage>? messages, IReadOnlyList<string>? prompts) =>
        (Trace, this.endpoint, this.messages, this.prompts) = (trace, endpoint, messages, prompts);

    public CompletionTrace Trace { get; }

    public static HostedAnswer Start(ServingMetrics metrics, ConversationLog? log, string endpoint, JsonElement body, ServingLimits limits)
    {
        string model = body.GetProperty("model").GetString()!;
        try
        {
            if (endpoint == ConversationRecord.Chat)
            {
                var chat = ChatCompletionRequest.Parse(body, limits);
                return new HostedAnswer(new CompletionTrace(metrics, log, endpoint, model, chat.Store ?? true, chat.Metadata), endpoint, chat.Messages, null);
            }
            var legacy = CompletionRequest.Parse(body, limits);
            return new HostedAnswer(new CompletionTrace(metrics, log, endpoint, model, legacy.Store ?? true, legacy.Metadata), endpoint, null,
                [.. legacy.Prompts.Select(p => p.Text ?? $"[{p.Ids!.Length} token ids]")]);
        }
        catch (ProtocolException)
        {
            // A request our parsers do not read (a field the service has and we do not) still goes to the service; its
            // record keeps counts only, as store: false would.
            return new HostedAnswer(new CompletionTrace(metrics, log, endpoint, model, false, new Dictionary<string, string>()), endpoint, null, null);
        }
    }

    public void Finish(HostedRoute route, int status, string? contentType, ResponseCapture response, bool aborted)
    {
        if (aborted)
        {
            Trace.Failed(route.Project, route.Version, 499, "client_disconnected");
            return;
        }
        var text = Encoding.UTF8.GetString(response.Captured.Span);
        if (status != 200)
        {
            Trace.Failed(route.Project, route.Version, status, ErrorKind(text) ?? $"upstream_{status}");
            return;
        }
        bool stream = contentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) == true;
        var answer = new Answer();
        try
        {
            if (stream)
                foreach (var line in text.Split('\n'))
                {
                    var data = line.TrimEnd('\r');
                    if (data.StartsWith("data:", StringComparison.Ordinal) && data[5..].Trim() is var payload && payload != "[DONE]")
                        answer.Add(payload, delta: true, endpoint);
                }
            else answer.Add(text, delta: false, endpoint);
        }
        catch (JsonException)
        {
            // Cut short by the capture bound (or not the protocol): what was read is what is logged.
        }
        Trace.Id = answer.Id ?? "";
        Trace.Answered(route.Project, route.Version, new Usage(answer.PromptTokens, answer.CompletionTokens),
            [.. answer.Choices.OrderBy(c => c.Key).Select(c => new LoggedChoice(c.Key, c.Value.Text.ToString(), c.Value.FinishReason))],
            messages, prompts);
    }

    static string? ErrorKind(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (!document.RootElement.TryGetProperty("error", out var error) || error.ValueKind != JsonValueKind.Object) return null;
            foreach (var field in new[] { "code", "type" })
                if (error.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String) return value.GetString();
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A chat completion, a completion, or the chunks of either, added up.</summary>
    sealed class Answer
    {
        public string? Id { get; private set; }
        public int PromptTokens { get; private set; }
        public int CompletionTokens { get; private set; }
        public SortedDictionary<int, (StringBuilder Text, string? FinishReason)> Choices { get; } = [];

        public void Add(string json, bool delta, string endpoint)
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String) Id ??= id.GetString();
            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                PromptTokens = Int(usage, "prompt_tokens");
                CompletionTokens = Int(usage, "completion_tokens");
            }
            if (!root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array) return;
            foreach (var choice in choices.EnumerateArray())
            {
                int index = Int(choice, "index");
                var (text, finish) = Choices.TryGetValue(index, out var sofar) ? sofar : (new StringBuilder(), null);
                string? part = endpoint == ConversationRecord.Chat
                    ? choice.TryGetProperty(delta ? "delta" : "message", out var message) && message.ValueKind == JsonValueKind.Object ? Str(message, "content") : null
                    : Str(choice, "text");
                text.Append(part);
                Choices[index] = (text, Str(choice, "finish_reason") ?? finish);
            }
        }

        static int Int(JsonElement o, string name) => o.TryGetProperty(name, out var v) && v.TryGetInt32(out int n) ? n : 0;
        static string? Str(JsonElement o, string name) => o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    }
}
