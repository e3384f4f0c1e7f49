using ServerlessTune.Core;
using ServerlessTune.Core.Data;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Tokenization;
using ServerlessTune.Core.Pipeline;
using ServerlessTune.Core.Storage;
using ServerlessTune.Pipeline.Orchestration;

namespace ServerlessTune.Pipeline.Steps;

/// <summary>
/// The PrepareData step: every data file under datasets/{project}/ into prepared/{runId}/, tokenised with the
/// base model's own tokenizer and chat template and held to its context, so what is counted is what is trained.
/// Preparation is deterministic (byte-identical outputs), so a retry rewrites the same artifacts.
/// </summary>
public sealed class PrepareStep(IArtifactStore store)
{
    public async Task<PreparedData> RunAsync(PrepareDataInput input, CancellationToken ct = default)
    {
        string project = ArtifactPath.ValidateName(input.Project, "project");
        string runId = ArtifactPath.ValidateName(input.RunId, "run id");
        var config = PipelineConfigParser.Parse(input.ConfigJson ?? "{}", input.ConfigSource);
        string source = $"datasets/{project}/";
        string output = $"prepared/{runId}";
        using var local = new LocalArtifacts(store);
        string model = await local.FolderAsync(input.BaseModel, ct);
        var options = config.Prepare with
        {
            Tokenizer = config.Tokenizer ?? model,
            Template = ChatTemplates.For(model, config.ChatTemplate).Name,
            MaxTokens = Math.Min(config.Prepare.MaxTokens, ModelConfig.Load(model).MaxPositions),
        };
        var request = await PrepareRequest.FromStorePrefixAsync(store, source, output + "/", options, ct);
        if (request.Inputs.Count == 0)
            throw new UserInputException($"{source}: no data files in {store.Location}");
        var stats = await DataPreparationService.RunAsync(request, cancellationToken: ct);
        if (stats.Totals.Train == 0)
            throw new UserInputException($"{source}: no usable training records ({stats.Totals.Input} read, {stats.Totals.Rejected} rejected: see {output}/rejects.jsonl)");
        return new PreparedData(output, stats.DatasetVersion, stats.Totals.Train, stats.Totals.Validation);
    }
}
