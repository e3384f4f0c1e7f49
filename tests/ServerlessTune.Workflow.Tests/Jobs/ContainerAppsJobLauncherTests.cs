using System.Net;
using System.Text.Json.Nodes;
using Azure.Core;
using ServerlessTune.Azure.Jobs;
using ServerlessTune.Core.Jobs;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Training;

namespace ServerlessTune.Workflow.Tests.Jobs;

public sealed class ContainerAppsJobLauncherTests
{
    static readonly ContainerAppsJobOptions Options = new(
        SubscriptionId: "0b3c7e2a-1111-4c5d-9e8f-123456789abc", ResourceGroup: "rg-stune", JobName: "stune-trainer",
        StoreLocation: "https://stuneartifacts.blob.core.windows.net/artifacts");

    static readonly JobSpec Spec = new()
    {
        RunId = "run-42", BaseModel = "models/base", Data = "prepared/run-42",
        Hyperparameters = new TrainingOptions { Epochs = 2, LoraRank = 8 },
    };

    [Fact]
    public async Task Starts_polls_and_stops_an_execution_as_recorded()
    {
        var recorded = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Jobs", "Recorded", "containerapps-job.json")))!;
        var scopes = new List<string>();
        var credential = DelegatedTokenCredential.Create((context, _) =>
        {
            scopes.AddRange(context.Scopes);
            return new AccessToken("recorded-token", DateTimeOffset.UtcNow.AddHours(1));
        });
        // The start request is the job's own container (as Jobs - Get returned it) with the run's arguments.
        var handler = new ReplayHandler(recorded["exchanges"]!.AsArray());
        var launcher = new ContainerAppsJobLauncher(new HttpClient(handler), credential, Options);

        var job = await launcher.StartAsync(Spec, ArtifactLayout.Run("run-42").Job(JobKinds.Train).Spec);
        var running = await launcher.GetStatusAsync(job);
        var failed = await launcher.GetStatusAsync(job);
        var stop = await Assert.ThrowsAsync<HttpRequestException>(() => launcher.StopAsync(job));

        Assert.Equal(new JobHandle("run-42", JobKinds.Train, "containerapps", "stune-trainer-k2x9q1"), job);
        Assert.Equal(JobState.Running, running.State);
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Contains("stune-trainer-k2x9q1 ended Failed", failed.Error);
        Assert.Equal(HttpStatusCode.Forbidden, stop.StatusCode);
        Assert.Contains("AuthorizationFailed", stop.Message);
        Assert.DoesNotContain("recorded-token", stop.Message);
        Assert.Equal(0, handler.Remaining);
        Assert.All(scopes, s => Assert.Equal("https://management.azure.com/.default", s));
    }

    /// <summary>Every JobExecutionRunningState of the Container Apps REST reference, and one it does not list.</summary>
    [Theory]
    [InlineData("Running", JobState.Running)]
    [InlineData("Processing", JobState.Running)]
    [InlineData("Succeeded", JobState.Succeeded)]
    [InlineData("Failed", JobState.Failed)]
    [InlineData("Stopped", JobState.Failed)]
    [InlineData("Degraded", JobState.Failed)]
    [InlineData("Unknown", JobState.Failed)]
    [InlineData("Suspended", JobState.Failed)]
    public async Task Each_execution_status_maps_to_a_job_state_and_an_unknown_one_is_not_polled_as_running(string status, JobState expected)
    {
        var recorded = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Jobs", "Recorded", "containerapps-job.json")))!;
        // The recorded status poll (Jobs Executions - Get), with the status under test.
        var poll = recorded["exchanges"]!.AsArray().First(e => e!["request"]!["url"]!.GetValue<string>().Contains("/executions/stune-trainer-k2x9q1?"))!.DeepClone();
        poll["response"]!["body"]!["properties"]!["status"] = status;
        var credential = DelegatedTokenCredential.Create((_, _) => new AccessToken("recorded-token", DateTimeOffset.UtcNow.AddHours(1)));
        var launcher = new ContainerAppsJobLauncher(new HttpClient(new ReplayHandler([poll])), credential, Options);

        var progress = await launcher.GetStatusAsync(new JobHandle("run-42", JobKinds.Train, "containerapps", "stune-trainer-k2x9q1"));

        Assert.Equal(expected, progress.State);
        if (expected == JobState.Failed) Assert.Contains($"stune-trainer-k2x9q1 {(status is "Failed" or "Stopped" or "Degraded" ? "ended" : "has status")} {status}", progress.Error);
    }
}
