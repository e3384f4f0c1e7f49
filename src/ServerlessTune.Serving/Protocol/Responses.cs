using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServerlessTune.Serving.Protocol;

// The response and chunk shapes of OpenAI's chat completions and completions APIs. Fields OpenAI always
// sends, even as null (finish_reason of a chunk, logprobs of a choice), are written as null.

public static class ProtocolJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

public sealed record Usage(int PromptTokens, int CompletionTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}

public sealed record ChatCompletion(string Id, long Created, string Model, string SystemFingerprint,
    IReadOnlyList<ChatChoice> Choices, Usage Usage)
{
    public string Object => "chat.completion";
}

public sealed record ChatChoice(int Index, AssistantMessage Message,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] ChatLogprobs? Logprobs,
    string FinishReason);

public sealed record AssistantMessage(string Content)
{
    public string Role => "assistant";
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public string? Refusal => null;
}

public sealed record ChatLogprobs(IReadOnlyList<ChatTokenLogprob> Content);

/// <param name="Bytes">The token's UTF-8 bytes as a list of integers (OpenAI's shape, not base64).</param>
public sealed record ChatTokenLogprob(string Token, float Logprob, int[] Bytes, IReadOnlyList<ChatTopLogprob>? TopLogprobs);

public sealed record ChatTopLogprob(string Token, float Logprob, int[] Bytes);

public sealed record ChatCompletionChunk(string Id, long Created, string Model, string SystemFingerprint,
    IReadOnlyList<ChatChunkChoice> Choices,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Usage? Usage = null)
{
    public string Object => "chat.completion.chunk";
}

public sealed record ChatChunkChoice(int Index, ChatDelta Delta,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] ChatLogprobs? Logprobs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? FinishReason);

public sealed record ChatDelta(string? Role, string? Content);

public sealed record TextCompletion(string Id, long Created, string Model, string SystemFingerprint,
    IReadOnlyList<TextChoice> Choices, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Usage? Usage)
{
    public string Object => "text_completion";
}

public sealed record TextChoice(int Index, string Text,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] TextLogprobs? Logprobs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? FinishReason);

/// <summary>The legacy shape: parallel lists; the first prompt token's entries are null (it has no context).</summary>
public sealed record TextLogprobs(
    IReadOnlyList<string> Tokens,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] IReadOnlyList<float?> TokenLogprobs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] IReadOnlyList<Dictionary<string, float>?> TopLogprobs,
    IReadOnlyList<int> TextOffset);

public sealed record ModelList(IReadOnlyList<ModelCard> Data)
{
    public string Object => "list";
}

/// <param name="Format">How the served weights are held (fp32, bf16, int8); absent for a hosted model.</param>
public sealed record ModelCard(string Id, long Created, string OwnedBy, string? Format = null)
{
    public string Object => "model";
}
