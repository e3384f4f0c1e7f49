using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Training;

namespace ServerlessTune.Workflow.Steps;

/// <summary>
/// The Gate step, the evaluation's fan-in: merges the families the evaluation job wrote into the report
/// (reports/{runId}/report.json, .md and a self-contained .html, with the training curves) and applies the
/// configured gate to it. It runs no model, so it needs no libtorch. It also says which suite questions and dialogues the
/// training data holds, so the report scores the clean and contaminated cases apart and a rule can gate on either.
/// </summary>
public sealed class GateStep(IArtifactStore store)
{
    public async Task<GatedCandidate> RunAsync(GateInput input, CancellationToken ct = default)
    {
        using var local = new LocalArtifacts(store);
        var plan = await EvaluationPlan.FromStoreAsync(local, input.Project, input.DataPrefix, input.Eval, input.ChatTemplate, ct);
        // Only the fan-in compares the suite with the training set, so only it fetches train.jsonl.
        plan = plan with
        {
            TrainFile = await local.FileAsync(ArtifactPath.Combine(input.DataPrefix, PreparedPaths.TrainFile), ct),
            ContaminationThreshold = input.NearDuplicateThreshold,
        };
        var outputs = await EvaluationOutputs.ReadAsync(store, input.RunId, input.Eval.Families, ct);
        string metricsPath = ArtifactLayout.Run(input.RunId).Metrics;
        var metrics = await MetricsFile.ReadAsync(store, metricsPath, ct);
        var training = metrics.Count > 0 ? TrainingCurve.From(metrics, metricsPath) : null;

        var report = plan.Report(input.RunId, outputs, GateOptions.DefaultModel, new EvaluationOptions(), input.Gate, training);
        await ReportWriter.WriteAsync(report, store, ct);

        var candidate = report.Models.Single(m => m.Name == GateOptions.DefaultModel);
        return new GatedCandidate(report.Gate!,
            candidate.Metrics.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => kv.Value.Value, StringComparer.Ordinal));
    }
}
