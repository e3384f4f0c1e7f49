using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Jobs;
using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Storage;
using ServerlessTune.Workflow.Jobs;

namespace ServerlessTune.Workflow.Steps;

/// <summary>
/// The Evaluate step: every metric family for every model of the comparison (the base, the candidate this run
/// trained and, when the project has one, the model in production), measured by one evaluation job in the job
/// container (runs/{runId}/jobs/evaluate/), which writes runs/{runId}/eval/{family}.json for the Gate step.
/// One job rather than a job per family: each model is loaded once and one GPU container starts instead of
/// three. The suite and dialogue files are read here first, so a bad file fails the run before a job starts.
/// </summary>
public sealed class EvaluateStep(IArtifactStore store, ModelRegistry registry, RunJobs jobs)
{
    public async Task<JobHandle> StartAsync(EvaluateInput input, CancellationToken ct = default)
    {
        using (var local = new LocalArtifacts(store))
            (await EvaluationPlan.FromStoreAsync(local, input.Project, input.DataPrefix, input.Options, input.ChatTemplate, ct)).Validate();
        var spec = new JobSpec
        {
            Kind = JobKinds.Evaluate,
            RunId = input.RunId,
            Project = input.Project,
            Data = input.DataPrefix,
            ChatTemplate = input.ChatTemplate,
            Evaluation = new EvaluationSpec(await ModelsAsync(input, ct), input.Options),
        };
        return await jobs.StartAsync(spec, input.Relaunch, ct);
    }

    async Task<IReadOnlyList<StoredModel>> ModelsAsync(EvaluateInput input, CancellationToken ct)
    {
        var models = new List<StoredModel>
        {
            new("base", input.BaseModel, null, input.BaseModel),
            FineTuned(GateOptions.DefaultModel, input.BaseModel, await FineTunedModel.OfRunAsync(store, input.RunId, ct), null),
        };
        if (await registry.ResolveAsync(input.Project, ModelRegistry.Production, ct) is { } production)
            models.Add(FineTuned(ModelRegistry.Production, production.BaseModel, await FineTunedModel.AtAsync(store, production.Adapter, ct),
                $"{ModelRegistry.Production} ({production.Version})"));
        return models;
    }

    /// <summary>An adapter is evaluated on its base; a complete checkpoint stands alone.</summary>
    static StoredModel FineTuned(string name, string baseModel, FineTunedModel fineTuned, string? source) =>
        fineTuned.IsAdapter
            ? new(name, baseModel, fineTuned.Prefix, source ?? $"{baseModel} + {fineTuned.Prefix}")
            : new(name, fineTuned.Prefix, null, source ?? fineTuned.Prefix);
}
