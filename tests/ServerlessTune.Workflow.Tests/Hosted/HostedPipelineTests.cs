using System.Text.Json;
using System.Text.Json.Nodes;
using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Hosted;
using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Training;
using ServerlessTune.Workflow.Tests.Orchestration;

namespace ServerlessTune.Workflow.Tests.Hosted;

/// <summary>
/// The whole pipeline with a hosted base, embedded as `stune run` runs it, against the loopback service through the
/// real Azure.AI.OpenAI / OpenAI clients and Azure.Core's ARM pipeline.
/// </summary>
public sealed class HostedPipelineTests
{
    const string AzureConfig = """{"base_model": "azure-openai:gpt-4o-mini-2024-07-18", "train": {"epochs": 2, "learning_rate_multiplier": 0.5, "seed": 7}}""";

    [Fact]
    public async Task An_Azure_OpenAI_run_uploads_trains_evaluates_gates_and_deploys()
    {
        await using var harness = await HostedHarness.StartAsync();
        var log = new StatusLog();
        var result = await harness.Runner().RunAsync(HostedHarness.Input(AzureConfig), log);

        Assert.True(result.Status == "Completed", result.Error);
        var server = harness.Server;
        var job = Assert.Single(server.Jobs);
        Assert.Equal("gpt-4o-mini-2024-07-18", job.Model);
        Assert.Equal(HostedHarness.Project, job.Request["suffix"]!.GetValue<string>());
        Assert.Equal(7, job.Request["seed"]!.GetValue<int>());
        var hyper = job.Request["method"]!["supervised"]!["hyperparameters"]!;
        Assert.Equal(2, hyper["n_epochs"]!.GetValue<int>());
        Assert.Equal(0.5, hyper["learning_rate_multiplier"]!.GetValue<double>());
        Assert.Equal("auto", hyper["batch_size"]!.GetValue<string>());
        Assert.NotNull(job.Request["validation_file"]);

        // The uploaded files are the prepared splits in the API's format, and pass its documented checks.
        var model = HostedBaseModel.Parse("azure-openai:gpt-4o-mini-2024-07-18");
        var uploads = ArtifactLayout.Run(result.RunId).Job("train");
        foreach (var split in new[] { "train.jsonl", "validation.jsonl" })
        {
            string local = Path.Combine(harness.Store.Location, uploads.Upload(split));
            Assert.Equal(File.ReadAllBytes(local), Assert.Single(server.Files, f => f.Name == $"stune-{result.RunId}-{split}").Content);
            FineTuningFile.Validate(local, split, model, 1);
        }

        // Events became metrics and status; the checkpoints and the model are recorded.
        var metrics = await MetricsFile.ReadAsync(harness.Store, ArtifactLayout.Run(result.RunId).Metrics);
        Assert.Equal(job.Step, metrics.Count(m => m.Kind == MetricRecord.TrainKind));
        Assert.Equal(2.0 / job.Step, metrics.Last(m => m.Kind == MetricRecord.TrainKind).Loss!.Value, 1e-12);
        Assert.Contains(metrics, m => m.Kind == MetricRecord.EvalKind && m.ValLoss is not null);
        Assert.Contains(log.Reports, s => s.Step == "Train" && s.Message is { } m && m.StartsWith("Step ", StringComparison.Ordinal) && s.Loss is not null);
        var record = (await HostedJobRecord.ReadAsync(harness.Store, result.RunId))!;
        Assert.Equal(job.FineTunedModel, record.FineTunedModel);
        Assert.Equal(job.Step, record.Checkpoints.Count);
        Assert.Equal("succeeded", record.Status);

        // The candidate was deployed for the evaluation, then to production; the version records model and deployment.
        Assert.Equal(job.FineTunedModel, server.Deployments[$"{HostedHarness.Project}-candidate"]["properties"]!["model"]!["name"]!.GetValue<string>());
        Assert.Equal(job.FineTunedModel, server.Deployments[$"{HostedHarness.Project}-production"]["properties"]!["model"]!["name"]!.GetValue<string>());
        var version = await new ModelRegistry(harness.Store).ResolveAsync(HostedHarness.Project, ModelRegistry.Production);
        Assert.Equal(new HostedVersion(HostedBaseModel.AzureOpenAI, job.FineTunedModel!, $"{HostedHarness.Project}-production"), version!.Hosted);
        Assert.Equal(result.Version, version.Version);

        // The report compares the candidate with its base on the suite; the default hosted gate held them to it.
        using var report = JsonDocument.Parse(await harness.Store.ReadAllTextAsync(ArtifactLayout.Report(result.RunId).File("report.json")));
        var models = report.RootElement.GetProperty("models").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!);
        double F1(string name) => models[name].GetProperty("metrics").GetProperty(MetricCatalog.F1).GetProperty("value").GetDouble();
        Assert.True(F1("candidate") > F1("base"), $"candidate f1 {F1("candidate")} vs base {F1("base")}");
        Assert.False(models["candidate"].GetProperty("metrics").TryGetProperty(MetricCatalog.Perplexity, out _));
        Assert.True(result.Gate!.Passed);
        Assert.Equal(MetricCatalog.F1, Assert.Single(result.Gate.Rules).Rule.Metric);
    }
}
