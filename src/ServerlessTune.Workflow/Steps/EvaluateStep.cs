using ServerlessTune.Core;
using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Hosted;
using ServerlessTune.Core.Jobs;
using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Storage;
using ServerlessTune.Workflow.Jobs;
using ServerlessTune.Core.Modeling;

namespace ServerlessTune.Workflow.Steps;

/// <summary>
/// The Evaluate step: every metric family for every model of the comparison (the base, the candidate this run
/// trained and, when the project has one, the model in production), measured by one evaluation job in the job
/// container (runs/{runId}/jobs/evaluate/), which writes runs/{runId}/eval/{family}.json for the Gate step.
/// One job rather than a job per family: each model is loaded once and one GPU container starts instead of
/// three. The suite and dialogue files are read here first, so a bad file fails the run before a job starts.
/// A hosted candidate is evaluated here instead, through chat completions (<see cref="EvaluateHostedAsync"/>).
/// </summary>
public sealed class EvaluateStep(IArtifactStore store, ModelRegistry registry, RunJobs jobs, IHostedModels? hosted = null)
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

    /// <summary>
    /// The hosted comparison: the base (its deployment or id), the candidate (on Azure OpenAI deployed first, to the
    /// project's candidate deployment) and production when it is a model of the same service. A family written by an
    /// earlier try of this activity is not asked again.
    /// </summary>
    public async Task EvaluateHostedAsync(EvaluateInput input, CancellationToken ct = default)
    {
        var service = hosted ?? throw new UserInputException($"base_model '{input.BaseModel}': this host has no hosted fine-tuning wired");
        var model = HostedBaseModel.Parse(input.BaseModel);
        using var local = new LocalArtifacts(store);
        var plan = await EvaluationPlan.FromStoreAsync(local, input.Project, input.DataPrefix, input.Options, input.ChatTemplate, ct);
        plan.Validate();
        var families = new List<string>();
        foreach (var family in input.Options.Families)
            if (!await EvaluationOutputs.ExistsAsync(store, input.RunId, family, ct)) families.Add(family);
        if (families.Count == 0) return;

        string fineTuned = await HostedJobRecord.FineTunedModelAsync(store, input.RunId, ct);
        var candidate = await service.DeployAsync(model.Provider, fineTuned,
            HostedTarget.DeploymentName(input.Project, GateOptions.DefaultModel), ct);
        var models = new List<HostedEvaluatedModel>
        {
            new("base", service.Base(model), model.Spec),
            new(GateOptions.DefaultModel, candidate, fineTuned),
        };
        if (await registry.ResolveAsync(input.Project, ModelRegistry.Production, ct) is { Hosted: { } production } version
            && production.Provider == model.Provider)
            models.Add(new(ModelRegistry.Production, new HostedTarget(production.Provider, production.Deployment ?? production.Model),
                $"{ModelRegistry.Production} ({version.Version})"));

        var evaluator = new HostedEvaluator(service, plan);
        var outputs = families.ToDictionary(f => f, _ => new List<FamilyOutput>());
        foreach (var evaluated in models)
            foreach (var output in await evaluator.RunAsync(evaluated, families, ct))
                outputs[output.Family].Add(output);
        foreach (var (family, familyOutputs) in outputs)
            await EvaluationOutputs.WriteAsync(store, input.RunId, new FamilyResult(family, familyOutputs), ct);
    }

    async Task<IReadOnlyList<StoredModel>> ModelsAsync(EvaluateInput input, CancellationToken ct)
    {
        var models = new List<StoredModel>
        {
            // The base in the candidate's format, so "beats the base" measures the fine-tuning, not the quantization.
            new("base", input.BaseModel, null, input.BaseModel, input.Format),
            FineTuned(GateOptions.DefaultModel, input.BaseModel, await FineTunedModel.OfRunAsync(store, input.RunId, ct), null, input.Format),
        };
        // A hosted production model cannot be loaded by the evaluation job; it answers only in hosted comparisons.
        if (await registry.ResolveAsync(input.Project, ModelRegistry.Production, ct) is { Hosted: null } production)
            models.Add(FineTuned(ModelRegistry.Production, production.BaseModel, await FineTunedModel.AtAsync(store, production.Adapter, ct),
                $"{ModelRegistry.Production} ({production.Version})", production.Format ?? WeightFormat.Fp32));
        return models;
    }

    /// <summary>An adapter is evaluated on its base; a complete checkpoint stands alone.</summary>
    static StoredModel FineTuned(string name, string baseModel, FineTunedModel fineTuned, string? source, WeightFormat format) =>
        fineTuned.IsAdapter
            ? new(name, baseModel, fineTuned.Prefix, source ?? $"{baseModel} + {fineTuned.Prefix}", format)
            : new(name, fineTuned.Prefix, null, source ?? fineTuned.Prefix, format);
}
