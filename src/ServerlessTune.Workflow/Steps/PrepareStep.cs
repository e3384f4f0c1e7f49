using ServerlessTune.Core;
using ServerlessTune.Core.Data;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Tokenization;

namespace ServerlessTune.Workflow.Steps;

/// <summary>
/// The PrepareData step: every data file under datasets/{project}/ into prepared/{runId}/, tokenised with the
/// base model's own tokenizer and chat template and held to its context, so what is counted is what is trained.
/// Preparation is deterministic (byte-identical outputs), so a retry rewrites the same artifacts.
/// </summary>
public sealed class PrepareStep(IArtifactStore store)
{
    public async Task<PreparedData> RunAsync(PrepareDataInput input, CancellationToken ct = default)
    {
        string source = ArtifactLayout.Dataset(input.Project).Prefix;
        var output = ArtifactLayout.Prepared(input.RunId);
        using var local = new LocalArtifacts(store);
        string model = await local.FolderAsync(input.BaseModel, ct);
        var options = input.Options with
        {
            Tokenizer = input.Tokenizer ?? model,
            Template = ChatTemplates.For(model, input.ChatTemplate).Name,
            MaxTokens = Math.Min(input.Options.MaxTokens, ModelConfig.Load(model).MaxPositions),
        };
        var request = await PrepareRequest.FromStorePrefixAsync(store, source, output.Prefix, options, ct);
        if (request.Inputs.Count == 0)
            throw new UserInputException($"{source}: no data files in {store.Location}");
        var stats = await DataPreparationService.RunAsync(request, cancellationToken: ct);
        if (stats.Totals.Train == 0)
            throw new UserInputException($"{source}: no usable training records ({stats.Totals.Input} read, {stats.Totals.Rejected} rejected: see {output.Rejects})");
        return new PreparedData(output.Folder, stats.DatasetVersion, stats.Totals.Train, stats.Totals.Validation);
    }
}
