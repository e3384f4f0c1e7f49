using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Jobs;

/// <summary>
/// The evaluation job: loads each model of the comparison once, runs every requested metric family on it, and
/// writes each family's outputs to runs/{runId}/eval/{family}.json. A family already written (the job was lost
/// and started again) is not measured twice: the inputs are the run's own, so it would measure the same.
/// </summary>
public sealed class EvaluateJob(IArtifactStore store)
{
    public async Task RunAsync(JobSpec spec, Action<string> log, CancellationToken cancellationToken = default)
    {
        var evaluation = spec.Evaluation!;
        var families = new List<string>();
        foreach (var family in evaluation.Options.Families)
            if (!await EvaluationOutputs.ExistsAsync(store, spec.RunId, family, cancellationToken)) families.Add(family);
        if (families.Count == 0)
        {
            log($"job {spec.RunId}: every family was measured already");
            return;
        }

        using var local = new LocalArtifacts(store);
        var plan = await EvaluationPlan.FromStoreAsync(local, spec.Project!, spec.Data, evaluation.Options, spec.ChatTemplate, cancellationToken);
        var evaluator = new ModelEvaluator(plan, log);
        var outputs = families.ToDictionary(f => f, _ => new List<FamilyOutput>());
        foreach (var model in evaluation.Models)
        {
            var evaluated = new EvaluatedModel(model.Name, await local.FolderAsync(model.Model, cancellationToken),
                model.Adapter is null ? null : await local.FolderAsync(model.Adapter, cancellationToken), model.Source, model.Format);
            foreach (var output in await evaluator.RunAllAsync(evaluated, families, cancellationToken))
                outputs[output.Family].Add(output);
        }
        foreach (var (family, familyOutputs) in outputs)
            await EvaluationOutputs.WriteAsync(store, spec.RunId, new FamilyResult(family, familyOutputs), cancellationToken);
        log($"job {spec.RunId}: {string.Join(", ", families)} for {string.Join(", ", evaluation.Models.Select(m => m.Name))}");
    }
}
