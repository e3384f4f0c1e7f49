using System.Text.Json.Nodes;
using Azure.Core;
using ServerlessTune.Core.Training;
using ServerlessTune.Pipeline.Orchestration;
using ServerlessTune.Pipeline.Storage;
using ServerlessTune.Pipeline.Training;

namespace ServerlessTune.Infra.Tests;

/// <summary>What the Functions app's launcher sends when it starts the job, against what infra/ declares for it.</summary>
public sealed class JobLaunchTests
{
    const string SpecPath = "runs/run-7/spec.json";

    static readonly JobSpec Spec = new() { RunId = "run-7", BaseModel = "models/base", Data = "prepared/run-7", Output = "runs/run-7" };

    /// <summary>Every request of a start, a status poll and a stop, against the default deployment's job.</summary>
    public static IReadOnlyList<ArmJobs.Request> LaunchRequests()
    {
        var arm = new ArmJobs(Snapshots.Default.Service("trainer")!);
        var launcher = new ContainerAppsJobLauncher(new HttpClient(arm), new FixedToken(), Options());
        var job = launcher.StartAsync(Spec, SpecPath).GetAwaiter().GetResult();
        Assert.Equal(JobState.Running, launcher.GetStatusAsync(job).GetAwaiter().GetResult().State);
        launcher.StopAsync(job).GetAwaiter().GetResult();
        return arm.Requests;
    }

    [Fact]
    public void A_start_sends_the_declared_container_with_the_runs_arguments()
    {
        var declared = Snapshot.Container(Snapshots.Default.Service("trainer")!);
        var start = Assert.Single(LaunchRequests(), r => r.Path.EndsWith("/start"));
        var sent = Assert.Single(start.Body!["containers"]!.AsArray())!.AsObject();

        Assert.Equal(Snapshot.Text(declared, "name"), Snapshot.Text(sent, "name"));
        Assert.Equal(Snapshot.Text(declared, "image"), Snapshot.Text(sent, "image"));
        Assert.True(JsonNode.DeepEquals(declared["resources"], sent["resources"]), $"declared {declared["resources"]}, sent {sent["resources"]}");
        Assert.True(JsonNode.DeepEquals(declared["env"], sent["env"]), $"declared {declared["env"]}, sent {sent["env"]}");
        // The size is the GPU profile's whole replica, as infra/types.bicep sizes it.
        Assert.Equal("""{"cpu":8,"memory":"56Gi"}""", sent["resources"]!.ToJsonString());
        Assert.Equal([SpecPath, TrainerStore.ContainerUrlOption, Options().StoreLocation], sent["args"]!.AsArray().Select(a => a!.GetValue<string>()));
    }

    [Fact]
    public async Task The_trainer_reads_what_the_launcher_sends()
    {
        var start = Assert.Single(LaunchRequests(), r => r.Path.EndsWith("/start"));
        var sent = start.Body!["containers"]![0]!;
        foreach (var env in sent["env"]!.AsArray())
            Assert.True(TrainerStore.Names.Reads(env!["name"]!.GetValue<string>()), $"the launcher sets {env["name"]}, which the trainer does not read");
        var args = sent["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToArray();
        // The trainer's own opener accepts the URL (it opens no connection until the job reads).
        var store = await TrainerStore.OpenAsync(folder: null, container: null, containerUrl: args[2]);
        Assert.IsType<BlobArtifactStore>(store);
    }

    [Fact]
    public void The_job_runs_on_a_GPU_profile_its_environment_offers()
    {
        var job = Snapshots.Default.Service("trainer")!;
        var environment = Assert.Single(Snapshots.Default.OfType("Microsoft.App/managedEnvironments"));
        var profile = Assert.Single(environment["properties"]!["workloadProfiles"]!.AsArray(),
            p => p!["name"]!.GetValue<string>() == job["properties"]!["workloadProfileName"]!.GetValue<string>())!;
        Assert.StartsWith("Consumption-GPU-", profile["workloadProfileType"]!.GetValue<string>());
        Assert.Equal(Snapshot.Id(environment), job["properties"]!["environmentId"]!.GetValue<string>());
    }

    /// <summary>The launcher's settings exactly as the Functions app builds them from infra's app settings.</summary>
    public static ContainerAppsJobOptions Options()
    {
        var settings = SettingsTests.FunctionSettingsOf(Snapshots.Default);
        return settings.TrainingJob(settings.ArtifactContainer(new FixedToken()));
    }

    sealed class FixedToken : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) => new("arm-token", DateTimeOffset.UtcNow.AddHours(1));
        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) => new(GetToken(requestContext, cancellationToken));
    }
}
