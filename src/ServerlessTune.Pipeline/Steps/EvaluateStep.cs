using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Pipeline;
using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Storage;
using ServerlessTune.Pipeline.Orchestration;

namespace ServerlessTune.Pipeline.Steps;

/// <summary>
/// One metric family for every model of the comparison: the base, the candidate (this run's fine-tune) and,
/// when the project has one, the model in production. Each Evaluate activity runs one family; the Gate step
/// merges them. Inputs are read from the store, so a retry measures the same thing again.
/// </summary>
public sealed class EvaluateStep(IArtifactStore store, ModelRegistry registry)
{
    public async Task<FamilyResult> RunAsync(EvaluateInput input, CancellationToken ct = default)
    {
        var config = PipelineConfigParser.Parse(input.ConfigJson ?? "{}", input.ConfigSource);
        using var local = new LocalArtifacts(store);
        var plan = await PlanAsync(local, input.Project, input.DataPrefix, config, ct);
        var evaluator = new ModelEvaluator(plan);
        var outputs = new List<FamilyOutput>();
        foreach (var model in await ModelsAsync(local, input, ct))
            outputs.Add(await evaluator.RunAsync(model, input.Family, ct));
        return new FamilyResult(input.Family, outputs);
    }

    /// <summary>The plan every family and the fan-in share: suite and dialogue files come from the project's eval/ folder.</summary>
    public static async Task<EvaluationPlan> PlanAsync(LocalArtifacts local, string project, string dataPrefix, PipelineConfig config,
        CancellationToken ct)
    {
        string? ProjectFile(string? relative) => relative is null ? null : ArtifactPath.Combine("datasets", project, relative);
        string? suite = ProjectFile(config.Eval.Suite), dialogues = ProjectFile(config.Eval.DialoguesFile);
        return new EvaluationPlan
        {
            ValidationFile = await local.FileAsync($"{dataPrefix}/validation.jsonl", ct),
            SuiteFile = suite is null ? null : await local.FileAsync(suite, ct),
            DialoguesFile = dialogues is null ? null : await local.FileAsync(dialogues, ct),
            MaxDerivedCases = config.Eval.MaxCases,
            BatchSize = config.Eval.BatchSize,
            Decoding = new() { MaxNewTokens = config.Eval.MaxNewTokens },
            ChatTemplate = config.ChatTemplate,
        };
    }

    async Task<IReadOnlyList<EvaluatedModel>> ModelsAsync(LocalArtifacts local, EvaluateInput input, CancellationToken ct)
    {
        string baseFolder = await local.FolderAsync(input.BaseModel, ct);
        var fineTuned = await RunOutputs.FineTunedAsync(store, input.RunId, ct);
        var models = new List<EvaluatedModel>
        {
            new("base", baseFolder, Source: input.BaseModel),
            fineTuned.IsAdapter
                ? new("candidate", baseFolder, await local.FolderAsync(fineTuned.Prefix, ct), Source: $"{input.BaseModel} + {fineTuned.Prefix}")
                : new("candidate", await local.FolderAsync(fineTuned.Prefix, ct), Source: fineTuned.Prefix),
        };
        if (await registry.ResolveAsync(input.Project, ModelRegistry.Production, ct) is { } production)
        {
            string productionBase = await local.FolderAsync(production.BaseModel, ct);
            bool adapter = await store.ExistsAsync($"{production.Adapter}/adapter_config.json", ct);
            models.Add(adapter
                ? new("production", productionBase, await local.FolderAsync(production.Adapter, ct), Source: $"{ModelRegistry.Production} ({production.Version})")
                : new("production", await local.FolderAsync(production.Adapter, ct), Source: $"{ModelRegistry.Production} ({production.Version})"));
        }
        return models;
    }
}
