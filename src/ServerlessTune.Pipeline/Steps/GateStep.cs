using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Pipeline;
using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Storage;
using ServerlessTune.Pipeline.Orchestration;

namespace ServerlessTune.Pipeline.Steps;

/// <summary>
/// The fan-in: merges every family's outputs into the evaluation report (written to reports/{runId}/ as
/// JSON, Markdown and self-contained HTML, with the training curves), and applies the configured gate to it.
/// </summary>
public sealed class GateStep(IArtifactStore store)
{
    public async Task<GateDecision> RunAsync(GateInput input, CancellationToken ct = default)
    {
        var config = PipelineConfigParser.Parse(input.ConfigJson ?? "{}", input.ConfigSource);
        using var local = new LocalArtifacts(store);
        var plan = await EvaluateStep.PlanAsync(local, input.Project, input.DataPrefix, config, ct);
        // Only the fan-in compares the suite with the training set, so only it fetches train.jsonl.
        plan = plan with { TrainFile = await local.FileAsync($"{input.DataPrefix}/train.jsonl", ct), ContaminationThreshold = config.Prepare.NearDuplicateThreshold };
        string metrics = $"runs/{ArtifactPath.ValidateName(input.RunId, "run id")}/metrics.jsonl";
        var training = await store.ExistsAsync(metrics, ct) ? TrainingCurve.Load(await local.FileAsync(metrics, ct)) : null;

        var report = new ModelEvaluator(plan).Report(input.RunId, input.Families.SelectMany(f => f.Outputs),
            QualityGateConfig.DefaultModel, new EvaluationOptions(), config.Gate, training);
        await ReportWriter.WriteAsync(report, store, ct);

        var gate = report.Gate!;
        var reasons = gate.Rules.Where(r => r.Status == RuleStatus.Failed).Select(r => r.Message).ToList();
        var candidate = report.Models.Single(m => m.Name == QualityGateConfig.DefaultModel);
        return new GateDecision(
            new GateRecord(gate.Passed, config.Gate.Mode.ToString().ToLowerInvariant(), reasons),
            candidate.Metrics.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => kv.Value.Value, StringComparer.Ordinal));
    }
}
