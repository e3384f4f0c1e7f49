namespace ServerlessTune.Core.Modeling;

/// <summary>What `stune model info` reports: read from config.json only, no weights allocated.</summary>
public sealed record ModelSummary(
    string Architecture, string ModelType, long Parameters, int Layers, int HiddenSize, int Heads, int KvHeads,
    int VocabSize, int ContextLength, bool TiedEmbeddings, string? TorchDtype)
{
    public static ModelSummary Describe(string dirOrConfigJson)
    {
        var config = ModelConfig.Load(dirOrConfigJson);
        var dtype = config.Raw["torch_dtype"] is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        return new ModelSummary(config.Architecture, config.ModelType, ParameterCounter.Count(config), config.NumLayers,
            config.HiddenSize, config.NumHeads, config.NumKvHeads, config.VocabSize, config.MaxPositions, config.TieWordEmbeddings, dtype);
    }
}
