using ServerlessTune.Azure.Storage;
using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Storage;
using ServerlessTune.Workflow.Jobs;
using ServerlessTune.Workflow.Runner;
using ServerlessTune.Workflow.Tests.Storage;

namespace ServerlessTune.Workflow.Tests.Orchestration;

/// <summary>
/// The whole pipeline with every real part: data preparation, the job program as a child process for training
/// and for model evaluation, the gate over the merged report, and the registry; in the in-process Durable Task
/// engine, over a local folder and over blob storage (Azurite).
/// </summary>
public static class EndToEnd
{
    /// <summary>A short full fine-tune of the tiny random base: enough to beat it at modelling the data.</summary>
    public const string Config = """
        {
          "prepare": { "validation_fraction": 0.2 },
          "train": { "method": "full", "max_steps": 24, "learning_rate": 0.003, "batch_size": 8, "grad_accum": 1,
                     "warmup_steps": 4, "eval_every": 12, "checkpoint_every": 12, "seed": 3 },
          "eval": { "max_cases": 3, "max_new_tokens": 8 }
        }
        """;

    internal static readonly string TrainerDll = Path.Combine(AppContext.BaseDirectory, "stune-trainer.dll");

    public static LocalTrainerCommand Trainer(params string[] storeArguments) =>
        new("dotnet", [TrainerDll, "{spec}", .. storeArguments]);

    public static async Task AssertDeployedAsync(IArtifactStore store, PipelineRunResult run)
    {
        Assert.True(run.Status == PipelineOutcome.Completed, $"{run.Status}: {run.Error}");
        Assert.True(run.Gate!.Passed);
        var registry = new ModelRegistry(store);
        var version = Assert.Single(await registry.ListAsync(PipelineHarness.Project));
        Assert.Equal(run.Version, version.Version);
        Assert.Equal(version.Version, (await registry.GetAliasesAsync(PipelineHarness.Project))[ModelRegistry.Production]);
        // Full fine-tuning registers the complete checkpoint the trainer wrote.
        Assert.Equal($"runs/{run.RunId}/merged", version.Adapter);
        Assert.True(await store.ExistsAsync($"runs/{run.RunId}/merged/model.safetensors"));
        Assert.Equal(run.Result!.Metrics, version.Metrics);
        foreach (var name in new[] { ReportPaths.JsonFile, ReportPaths.MarkdownFile, ReportPaths.HtmlFile })
            Assert.True(await store.ExistsAsync($"reports/{run.RunId}/{name}"), name);
        var report = ReportJson.Deserialize(await store.ReadAllTextAsync($"reports/{run.RunId}/{ReportPaths.JsonFile}"), "report.json");
        double Perplexity(string model) => report.Models.Single(m => m.Name == model).Metrics[MetricCatalog.Perplexity].Value;
        Assert.True(Perplexity("candidate") < Perplexity("base"), $"candidate {Perplexity("candidate")} vs base {Perplexity("base")}");
        Assert.InRange(report.Cases.Count, 1, 3); // derived from the validation split, capped by max_cases
        // The Gate's fan-in compared every case with train.jsonl and scored each answering model on both subsets.
        var contamination = Assert.IsType<ContaminationReport>(report.Contamination);
        Assert.Equal(report.Cases.Count, contamination.SuiteCases);
        Assert.Equal([ContaminationReport.Clean, ContaminationReport.Contaminated], contamination.Subsets.Select(s => s.Tag).Distinct());
        Assert.Equal(report.Cases.Count, contamination.Subsets.Where(s => s.Model == "candidate").Sum(s => s.Cases));
    }
}

public sealed class EndToEndLocalTests : IDisposable
{
    readonly string _root = Directory.CreateTempSubdirectory("stune-e2e-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task A_run_over_a_local_folder_trains_evaluates_and_deploys_for_real()
    {
        var store = new LocalFolderStore(_root);
        await PipelineHarness.AddDatasetAsync(store);
        using var launcher = new LocalProcessJobLauncher(EndToEnd.Trainer("--store", "{store}"), store.Location);

        var run = await new PipelineRunner(store, launcher).RunAsync(PipelineHarness.Input(EndToEnd.Config), runId: "run-local");

        await EndToEnd.AssertDeployedAsync(store, run);

        // The next run is measured against the model now in production, on the same cases.
        var next = await new PipelineRunner(store, launcher).RunAsync(PipelineHarness.Input(EndToEnd.Config), runId: "run-local-2");
        Assert.True(next.Status == PipelineOutcome.Completed, $"{next.Status}: {next.Error}");
        var report = ReportJson.Deserialize(await store.ReadAllTextAsync($"reports/{next.RunId}/{ReportPaths.JsonFile}"), "report.json");
        var production = report.Models.Single(m => m.Name == "production");
        Assert.Equal($"production ({run.Version})", production.Source);
        // Same data, seed and settings: the production model is the first run's, so it scores exactly the same.
        Assert.Equal(run.Result!.Metrics[MetricCatalog.Perplexity], production.Metrics[MetricCatalog.Perplexity].Value, 9);
        Assert.Equal(next.Version, (await new ModelRegistry(store).GetAliasesAsync(PipelineHarness.Project))[ModelRegistry.Production]);
    }
}

[Collection(AzuriteCollection.Name)]
public sealed class EndToEndBlobTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_run_over_blob_storage_trains_evaluates_and_deploys_for_real()
    {
        var (store, container) = await azurite.NewContainerAsync();
        await PipelineHarness.AddDatasetAsync(store);
        // The trainer opens the container itself; the key reaches it through its environment only.
        Environment.SetEnvironmentVariable(TrainerStore.ConnectionVariable, azurite.ConnectionString);
        using var launcher = new LocalProcessJobLauncher(EndToEnd.Trainer("--container", container), store.Location);

        var run = await new PipelineRunner(store, launcher).RunAsync(PipelineHarness.Input(EndToEnd.Config), runId: "run-blob-real");

        await EndToEnd.AssertDeployedAsync(store, run);
    }
}
