using ServerlessTune.Core.Evaluation;

namespace ServerlessTune.Core.Registry;

/// <summary>
/// One registered model: registry/{project}/versions/{version}/model.json. Everything needed to serve it
/// (base model + adapter) and to trace it (run, dataset version, metrics, gate decision).
/// </summary>
public sealed record ModelVersion
{
    public required string Project { get; init; }
    public required string Version { get; init; }
    public required string RunId { get; init; }
    /// <summary>The base model the adapter applies to: a store prefix, local folder or hub id.</summary>
    public required string BaseModel { get; init; }
    /// <summary>
    /// Store prefix of the fine-tuned part: the PEFT adapter (runs/{runId}/adapter) applied to BaseModel, or a
    /// complete checkpoint (runs/{runId}/merged) when the run trained every weight.
    /// </summary>
    public required string Adapter { get; init; }
    public required string DatasetVersion { get; init; }
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();
    public required GateResult Gate { get; init; }
    public required DateTimeOffset CreatedUtc { get; init; }
}
