namespace ServerlessTune.Serving.Protocol;

/// <summary>Bounds on one request, so no client can make the server do unbounded work.</summary>
public sealed record ServingLimits
{
    public int MaxBodyBytes { get; init; } = 1 << 20;
    public int MaxMessages { get; init; } = 256;
    public int MaxChoices { get; init; } = 8;
    /// <summary>The most new tokens one choice may ask for (the context bounds it too).</summary>
    public int MaxNewTokens { get; init; } = 4096;
    public int MaxTopLogprobs { get; init; } = 20;
    /// <summary>A feedback body: a rating, a comment and a corrected answer need far less than a chat.</summary>
    public int MaxFeedbackBytes { get; init; } = 64 * 1024;
    public int MaxFeedbackText { get; init; } = 16_000;
}
