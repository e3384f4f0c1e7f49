namespace ServerlessTune.Core.Evaluation;

/// <summary>
/// Sums a model-based evaluator accumulates over the validation split (the seam for the model side):
/// natural-log NLL of each predicted token, split into assistant tokens (the ones the assistant mask
/// marks) and all tokens, and how many assistant tokens were the model's top-1 prediction. Sums rather
/// than means so batches and shards add up exactly before the one division here.
/// </summary>
public sealed record LanguageModelTotals(
    double AssistantNllSum,
    long AssistantTokens,
    long AssistantTop1Correct,
    double AllNllSum,
    long AllTokens)
{
    public LanguageModelTotals Add(LanguageModelTotals other) => new(
        AssistantNllSum + other.AssistantNllSum,
        AssistantTokens + other.AssistantTokens,
        AssistantTop1Correct + other.AssistantTop1Correct,
        AllNllSum + other.AllNllSum,
        AllTokens + other.AllTokens);

    /// <summary>nll, perplexity = exp(nll), the same over all tokens, and top-1 accuracy; N is the token count.</summary>
    public IReadOnlyDictionary<string, MetricValue> ToMetrics()
    {
        if (AssistantTokens <= 0 || AllTokens < AssistantTokens || AssistantTop1Correct > AssistantTokens)
            throw new ArgumentException($"inconsistent token counts: assistant {AssistantTokens}, all {AllTokens}, top-1 correct {AssistantTop1Correct}");
        var nll = AssistantNllSum / AssistantTokens;
        var nllAll = AllNllSum / AllTokens;
        return new Dictionary<string, MetricValue>
        {
            [MetricCatalog.Nll] = new(nll, AssistantTokens),
            [MetricCatalog.Perplexity] = new(Math.Exp(nll), AssistantTokens),
            [MetricCatalog.NllAll] = new(nllAll, AllTokens),
            [MetricCatalog.PerplexityAll] = new(Math.Exp(nllAll), AllTokens),
            [MetricCatalog.Top1Accuracy] = new((double)AssistantTop1Correct / AssistantTokens, AssistantTokens),
        };
    }
}
