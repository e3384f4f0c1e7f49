using ServerlessTune.Core.Generation;

namespace ServerlessTune.Serving.Protocol;

/// <summary>What both endpoints accept about decoding; null means the request left it to the model's defaults.</summary>
public sealed record SamplingFields
{
    public double? Temperature { get; init; }
    public double? TopP { get; init; }
    public IReadOnlyList<string> Stop { get; init; } = [];
    public long? Seed { get; init; }
    public double FrequencyPenalty { get; init; }
    public double PresencePenalty { get; init; }
    public int N { get; init; } = 1;
    public bool Stream { get; init; }
    public bool IncludeUsage { get; init; }
    public string? User { get; init; }

    public static SamplingFields Read(RequestFields f, ServingLimits limits)
    {
        var streamOptions = f.Object("stream_options");
        var topP = f.Number("top_p", 0, 1);
        if (topP == 0) throw ProtocolException.BadValue("top_p", "must be greater than 0");
        return new SamplingFields
        {
            Temperature = f.Number("temperature", 0, 2),
            TopP = topP,
            Stop = f.StopStrings("stop", 4),
            Seed = f.Integer("seed", long.MinValue, long.MaxValue),
            FrequencyPenalty = f.Number("frequency_penalty", -2, 2) ?? 0,
            PresencePenalty = f.Number("presence_penalty", -2, 2) ?? 0,
            N = (int)(f.Integer("n", 1, limits.MaxChoices) ?? 1),
            Stream = f.Bool("stream") ?? false,
            IncludeUsage = streamOptions?.Bool("include_usage") ?? false,
            User = f.String("user", 256),
        };
    }

    /// <summary>The decoding options of choice <paramref name="choice"/>: the request's values over the model's
    /// generation_config.json over OpenAI's defaults (temperature 1, top_p 1). Choice i samples with seed + i.</summary>
    public GenerationOptions Options(GenerationConfig defaults, int maxNewTokens, long seed, int choice) => new()
    {
        MaxNewTokens = maxNewTokens,
        Temperature = Temperature ?? defaults.Temperature ?? 1.0,
        TopP = TopP ?? defaults.TopP ?? 1.0,
        TopK = defaults.TopK ?? 0,
        RepetitionPenalty = defaults.RepetitionPenalty ?? 1.0,
        FrequencyPenalty = FrequencyPenalty,
        PresencePenalty = PresencePenalty,
        Seed = unchecked(seed + choice),
        StopStrings = Stop,
    };
}
