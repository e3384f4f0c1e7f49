using ServerlessTune.Core.Jobs;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Workflow.Tests.Orchestration;

/// <summary>
/// deploy.format through the real orchestrator: the evaluation job measures the models as they would be served
/// (base and candidate in the deployed format, production in the format it is served in), and the registered
/// version records the format serving loads it in. The evaluation job is scripted here: what it is asked is the point.
/// </summary>
public sealed class PipelineFormatTests : IDisposable
{
    readonly PipelineHarness _harness = new();
    readonly LocalFolderStore _store;

    public PipelineFormatTests() => _store = new LocalFolderStore(Path.Combine(_harness.Scratch, "store"));

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task An_int8_deploy_is_evaluated_in_int8_against_production_as_served_and_registered_as_int8()
    {
        await PipelineHarness.AddDatasetAsync(_store);
        var first = await _harness.Runner(_store, ScriptTrainer.Succeeds, new ScriptedEvaluation(candidatePerplexity: 2.0))
            .RunAsync(PipelineHarness.Input("""{ "deploy": { "format": "bf16" } }"""), runId: "run-bf16");
        Assert.True(first.Status == PipelineOutcome.Completed, $"{first.Status}: {first.Error}");

        var second = await _harness.Runner(_store, ScriptTrainer.Succeeds, new ScriptedEvaluation(candidatePerplexity: 1.5))
            .RunAsync(PipelineHarness.Input("""{ "deploy": { "format": "int8" } }"""), runId: "run-int8");

        Assert.True(second.Status == PipelineOutcome.Completed, $"{second.Status}: {second.Error}");
        var spec = JobSpec.Parse(await _store.ReadAllTextAsync("runs/run-int8/jobs/evaluate/spec.json"), "spec.json");
        Assert.Equal(["base", "candidate", "production"], spec.Evaluation!.Models.Select(m => m.Name));
        Assert.Equal([WeightFormat.Int8, WeightFormat.Int8, WeightFormat.Bf16], spec.Evaluation.Models.Select(m => m.Format));
        var registry = new ModelRegistry(_store);
        Assert.Equal(WeightFormat.Int8, (await registry.ResolveAsync(PipelineHarness.Project, ModelRegistry.Production))!.Format);
        Assert.Equal([WeightFormat.Bf16, WeightFormat.Int8],
            (await registry.ListAsync(PipelineHarness.Project)).OrderBy(v => v.RunId, StringComparer.Ordinal).Select(v => v.Format));
    }
}
