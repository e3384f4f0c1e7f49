namespace ServerlessTune.Core.Modeling;

/// <summary>
/// Parameter counts from the config alone, so `stune model info` answers for a 7B config without
/// allocating it. Each formula mirrors the module tree of the architecture's file; a test checks that
/// they agree with the instantiated tiny models.
/// </summary>
public static class ParameterCounter
{
    public static long Count(ModelConfig c)
    {
        long d = c.HiddenSize, v = c.VocabSize, inner = c.IntermediateSize, layers = c.NumLayers;
        long q = (long)c.NumHeads * c.HeadDim, kv = (long)c.NumKvHeads * c.HeadDim;
        return c.ModelType switch
        {
            "gpt2" => v * d + (long)c.MaxPositions * d
                      + layers * (2 * d + Linear(d, 3 * d, true) + Linear(d, d, true) + 2 * d + Linear(d, inner, true) + Linear(inner, d, true))
                      + 2 * d
                      + (c.TieWordEmbeddings ? 0 : v * d),
            "gptj" => v * d
                      + layers * (2 * d + 4 * Linear(d, d, false) + Linear(d, inner, true) + Linear(inner, d, true))
                      + 2 * d
                      + Linear(d, v, true),
            "phi3" => v * d
                      + layers * (Linear(d, q + 2 * kv, false) + Linear(q, d, false) + Linear(d, 2 * inner, false) + Linear(inner, d, false) + 2 * d)
                      + d
                      + (c.TieWordEmbeddings ? 0 : v * d),
            _ => v * d
                 + layers * (Linear(d, q, c.QkvBias) + 2 * Linear(d, kv, c.QkvBias) + Linear(q, d, c.OutputBias)
                             + 2 * Linear(d, inner, c.MlpBias) + Linear(inner, d, c.MlpBias) + 2 * d)
                 + d
                 + (c.TieWordEmbeddings ? 0 : v * d),
        };
    }

    static long Linear(long inFeatures, long outFeatures, bool bias) => inFeatures * outFeatures + (bias ? outFeatures : 0);
}
