using System.Text.Json;

namespace ServerlessTune.Serving.Protocol;

/// <summary>
/// POST /v1/completions (the legacy text API), validated. A prompt is text, token ids, or a list of either (one
/// choice set per prompt). echo with logprobs scores the prompt's own tokens: what evaluation harnesses
/// (lm-evaluation-harness's local-completions) send to measure log-likelihoods.
/// </summary>
public sealed record CompletionRequest
{
    public required string Model { get; init; }
    /// <summary>Each prompt as text or as token ids (exactly one of the two).</summary>
    public required IReadOnlyList<(string? Text, int[]? Ids)> Prompts { get; init; }
    /// <summary>OpenAI's default is 16; 0 only scores or echoes the prompt.</summary>
    public int MaxTokens { get; init; } = 16;
    public required SamplingFields Sampling { get; init; }
    public bool Echo { get; init; }
    /// <summary>null = no log-probabilities; k = each token's and its k likeliest alternatives.</summary>
    public int? Logprobs { get; init; }

    /// <summary>Not OpenAI fields of this endpoint; read as the chat endpoint reads them, for the conversation log.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();
    public bool? Store { get; init; }

    public const int MaxPrompts = 64;

    public static CompletionRequest Parse(JsonElement root, ServingLimits limits)
    {
        var f = RequestFields.Root(root);
        var model = f.RequiredString("model");
        return new CompletionRequest
        {
            Model = model,
            Prompts = ReadPrompts(f),
            MaxTokens = (int)(f.Integer("max_tokens", 0, limits.MaxNewTokens) ?? 16),
            Sampling = SamplingFields.Read(f, limits),
            Echo = f.Bool("echo") ?? false,
            Logprobs = (int?)f.Integer("logprobs", 0, limits.MaxTopLogprobs),
            Metadata = f.Metadata("metadata"),
            Store = f.Bool("store"),
        };
    }

    static IReadOnlyList<(string?, int[]?)> ReadPrompts(RequestFields f)
    {
        if (f.Get("prompt") is not { } prompt)
            throw new ProtocolException(400, "prompt: missing", "prompt", "missing_required_parameter");
        if (prompt.ValueKind == JsonValueKind.String) return [(prompt.GetString()!, null)];
        if (prompt.ValueKind != JsonValueKind.Array || prompt.GetArrayLength() == 0)
            throw ProtocolException.BadType("prompt", "a string, an array of token ids, or a non-empty array of either");
        var first = prompt[0];
        if (first.ValueKind == JsonValueKind.Number) return [(null, Ids(prompt, "prompt"))];
        if (prompt.GetArrayLength() > MaxPrompts) throw ProtocolException.BadValue("prompt", $"at most {MaxPrompts} prompts");
        var prompts = new List<(string?, int[]?)>();
        int i = 0;
        foreach (var item in prompt.EnumerateArray())
        {
            prompts.Add(item.ValueKind switch
            {
                JsonValueKind.String => (item.GetString()!, null),
                JsonValueKind.Array => (null, Ids(item, $"prompt[{i}]")),
                _ => throw ProtocolException.BadType($"prompt[{i}]", "a string or an array of token ids"),
            });
            i++;
        }
        return prompts;
    }

    static int[] Ids(JsonElement array, string path)
    {
        if (array.GetArrayLength() == 0) throw ProtocolException.BadValue(path, "an empty token list");
        var ids = new int[array.GetArrayLength()];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out ids[i]) || ids[i] < 0)
                throw ProtocolException.BadType($"{path}[{i}]", "a non-negative integer token id");
            i++;
        }
        return ids;
    }
}
