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
        var models = new List<EvaluatedModel>
        {
            new("base", await local.FolderAsync(input.BaseModel, ct), Source: input.BaseModel),
            await FineTunedAsync(local, "candidate", input.BaseModel, await RunOutputs.FineTunedAsync(store, input.RunId, ct), null, ct),
        };
        if (await registry.ResolveAsync(input.Project, ModelRegistry.Production, ct) is { } production)
            models.Add(await FineTunedAsync(local, "production", production.BaseModel,
                await RunOutputs.OfAsync(store, production.Adapter, ct), $"{ModelRegistry.Production} ({production.Version})", ct));
        return models;
    }

    /// <summary>An adapter is evaluated on its base; a complete checkpoint stands alone.</summary>
    static async Task<EvaluatedModel> FineTunedAsync(LocalArtifacts local, string name, string baseModel, RunOutputs.FineTuned fineTuned,
        string? source, CancellationToken ct)
    {
        string folder = await local.FolderAsync(fineTuned.Prefix, ct);
        return fineTuned.IsAdapter
            ? new(name, await local.FolderAsync(baseModel, ct), folder, source ?? $"{baseModel} + {fineTuned.Prefix}")
            : new(name, folder, Source: source ?? fineTuned.Prefix);
    }
}
