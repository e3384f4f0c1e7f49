namespace ServerlessTune.Core.Generation;

/// <summary>
/// How to pick the next tokens. Temperature 0 means greedy decoding (the top-k/top-p settings are then
/// irrelevant); TopK 0 and TopP 1 switch those filters off; RepetitionPenalty 1 is no penalty (Transformers':
/// divides the logit of any token in prompt or output). FrequencyPenalty and PresencePenalty are OpenAI's:
/// subtracted per occurrence and once per distinct token of the output so far (0 is off).
/// Stop strings end a sequence where they first appear and are not part of the returned text
/// (OpenAI semantics, which the serving endpoint exposes).
/// </summary>
public sealed record GenerationOptions
{
    public int MaxNewTokens { get; init; } = 128;
    public double Temperature { get; init; }
    public double TopP { get; init; } = 1.0;
    public int TopK { get; init; }
    public double RepetitionPenalty { get; init; } = 1.0;
    public double FrequencyPenalty { get; init; }
    public double PresencePenalty { get; init; }
    public long Seed { get; init; }
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    public bool IsGreedy => Temperature == 0;

    /// <summary>Whether the sampler needs each row's output token counts.</summary>
    public bool CountsOutput => FrequencyPenalty != 0 || PresencePenalty != 0;

    /// <summary>Throws UserInputException naming the first bad setting.</summary>
    public void Validate()
    {
        if (MaxNewTokens < 1)
            throw new UserInputException($"max new tokens must be at least 1 (got {MaxNewTokens})");
        if (!double.IsFinite(Temperature) || Temperature < 0)
            throw new UserInputException($"temperature must be a finite number >= 0 (got {Temperature})");
        if (!double.IsFinite(TopP) || TopP <= 0 || TopP > 1)
            throw new UserInputException($"top-p must be in (0, 1] (got {TopP})");
        if (TopK < 0)
            throw new UserInputException($"top-k must be >= 0, 0 meaning off (got {TopK})");
        if (!double.IsFinite(RepetitionPenalty) || RepetitionPenalty <= 0)
            throw new UserInputException($"repetition penalty must be a finite number > 0 (got {RepetitionPenalty})");
        if (!double.IsFinite(FrequencyPenalty) || Math.Abs(FrequencyPenalty) > 2)
            throw new UserInputException($"frequency penalty must be in [-2, 2] (got {FrequencyPenalty})");
        if (!double.IsFinite(PresencePenalty) || Math.Abs(PresencePenalty) > 2)
            throw new UserInputException($"presence penalty must be in [-2, 2] (got {PresencePenalty})");
        for (int i = 0; i < StopStrings.Count; i++)
            if (string.IsNullOrEmpty(StopStrings[i]))
                throw new UserInputException($"stop string {i + 1} is empty");
    }
}
