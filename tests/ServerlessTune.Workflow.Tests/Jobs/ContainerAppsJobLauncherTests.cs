using System.Net;
using System.Text.Json.Nodes;
using Azure.Core;
using ServerlessTune.Azure.Jobs;
using ServerlessTune.Core.Jobs;
using ServerlessTune.Core.Training;

namespace ServerlessTune.Workflow.Tests.Jobs;

public sealed class ContainerAppsJobLauncherTests
{
    static readonly ContainerAppsJobOptions Options = new(
        SubscriptionId: "0b3c7e2a-1111-4c5d-9e8f-123456789abc", ResourceGroup: "rg-stune", JobName: "stune-trainer",
        ContainerName: "trainer", Image: "stunecr.azurecr.io/stune-trainer:1.0", StoreLocation: "https://stuneartifacts.blob.core.windows.net/artifacts");

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
        // The spec travels whole in the environment; the recording stands in "SPEC" for it.
        var handler = new ReplayHandler(recorded["exchanges"]!.AsArray(), body =>
        {
            body["containers"]![0]!["env"]![0]!["value"] = Spec.ToJson();
            return body;
        });
        var launcher = new ContainerAppsJobLauncher(new HttpClient(handler), credential, Options);

        var job = await launcher.StartAsync(Spec, "runs/run-42/spec.json");
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
}
