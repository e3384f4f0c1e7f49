using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Modeling;

namespace ServerlessTune.Core.Registry;

/// <param name="Provider">azure-openai or openai.</param>
/// <param name="Model">The fine-tuned model's id at the service (e.g. gpt-4o-mini-2024-07-18.ft-...).</param>
/// <param name="Deployment">The Azure OpenAI deployment serving it; null on OpenAI, where the model id is called directly.</param>
public sealed record HostedVersion(string Provider, string Model, string? Deployment);

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
    /// complete checkpoint (runs/{runId}/merged) when the run trained every weight; for a hosted model, the record of
    /// its fine-tuning job (runs/{runId}/jobs/train/hosted.json): the model itself lives in the service.
    /// </summary>
    public required string Adapter { get; init; }
    /// <summary>
    /// The chat template the run prepared and trained with (chatml, llama3, ...), so serving renders prompts the
    /// same way; null in entries registered before it was recorded (serving then detects it from the model folder,
    /// as training did when pipeline.json named none).
    /// </summary>
    public string? ChatTemplate { get; init; }
    /// <summary>
    /// How serving holds the weights (deploy.format): the trained fp32 weights are converted when the version loads.
    /// Null for a hosted model (its service holds it) and in entries registered before formats (served as fp32).
    /// </summary>
    public WeightFormat? Format { get; init; }
    /// <summary>Set for a model fine-tuned by a hosted service: what the serving front door forwards this project's requests to.</summary>
    public HostedVersion? Hosted { get; init; }
    public required string DatasetVersion { get; init; }
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();
    public required GateResult Gate { get; init; }
    public required DateTimeOffset CreatedUtc { get; init; }
}
