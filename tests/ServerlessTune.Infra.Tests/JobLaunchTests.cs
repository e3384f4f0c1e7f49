using System.Text.Json.Nodes;
using Azure.Core;
using ServerlessTune.Azure.Jobs;
using ServerlessTune.Azure.Storage;
using ServerlessTune.Core.Jobs;
using ServerlessTune.Core.PipelineConfig;
using ServerlessTune.Core.Storage;
using ServerlessTune.Workflow.Jobs;

namespace ServerlessTune.Infra.Tests;

/// <summary>
/// What the Functions app's launcher sends when the workflow starts a job of each kind (training, evaluation),
/// against what infra/ declares for the one job both kinds run in, and what the job program reads.
/// </summary>
public sealed class JobLaunchTests
{
    const string RunId = "run-7";

    public static TheoryData<string> Kinds => new(JobKinds.All);

    /// <summary>A job of each kind, with what its step asks of it.</summary>
    static JobSpec Spec(string kind) => kind == JobKinds.Train
        ? new JobSpec { Kind = kind, RunId = RunId, BaseModel = "models/base", Data = $"prepared/{RunId}" }
        : new JobSpec
        {
            Kind = kind, RunId = RunId, Project = "harbor-fiber", Data = $"prepared/{RunId}",
            Evaluation = new EvaluationSpec(
                [new StoredModel("base", "models/base", null, "models/base"), new StoredModel("candidate", "models/base", $"runs/{RunId}/adapter", RunId)],
                new EvalOptions()),
        };

    /// <param name="Requests">Every ARM request: per kind a start, a status poll and a stop.</param>
    /// <param name="StoredSpecs">What the job program finds at each spec path in the store, by path.</param>
    public sealed record Launch(IReadOnlyList<ArmJobs.Request> Requests, IReadOnlyDictionary<string, string> StoredSpecs)
    {
        /// <summary>The start request of the job of this kind: its arguments name that kind's spec.</summary>
        public JsonObject SentContainer(string kind)
        {
            string specPath = ArtifactLayout.Run(RunId).Job(kind).Spec;
            var start = Assert.Single(Requests, r => r.Path.EndsWith("/start") && Args(Container(r))[0] == specPath);
            return Container(start);
        }

        static JsonObject Container(ArmJobs.Request start) => Assert.Single(start.Body!["containers"]!.AsArray())!.AsObject();
    }

    /// <summary>Starts, polls and stops a job of each kind through the workflow's job records, against the default deployment's job.</summary>
    public static async Task<Launch> LaunchAsync()
    {
        var folder = Directory.CreateTempSubdirectory("stune-infra-");
        try
        {
            var store = new LocalFolderStore(folder.FullName);
            var arm = new ArmJobs(Snapshots.Default.Service("trainer")!);
            var jobs = new RunJobs(store, new ContainerAppsJobLauncher(new HttpClient(arm), new FixedToken(), Options()));
            var specs = new Dictionary<string, string>();
            foreach (string kind in JobKinds.All)
            {
                var job = await jobs.StartAsync(Spec(kind), relaunch: false);
                Assert.Equal(JobState.Running, (await jobs.GetStatusAsync(job)).State);
                await jobs.StopAsync(job);
                string specPath = ArtifactLayout.Run(RunId).Job(kind).Spec;
                specs[specPath] = await store.ReadAllTextAsync(specPath);
            }
            return new Launch(arm.Requests, specs);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_start_sends_the_declared_container_with_the_jobs_arguments(string kind)
    {
        var declared = Snapshot.Container(Snapshots.Default.Service("trainer")!);
        var sent = (await LaunchAsync()).SentContainer(kind);

        Assert.Equal(Snapshot.Text(declared, "name"), Snapshot.Text(sent, "name"));
        Assert.Equal(Snapshot.Text(declared, "image"), Snapshot.Text(sent, "image"));
        Assert.True(JsonNode.DeepEquals(declared["resources"], sent["resources"]), $"declared {declared["resources"]}, sent {sent["resources"]}");
        Assert.True(JsonNode.DeepEquals(declared["env"], sent["env"]), $"declared {declared["env"]}, sent {sent["env"]}");
        // The size is the GPU profile's whole replica, as infra/types.bicep sizes it; evaluation gets the same.
        Assert.Equal("""{"cpu":8,"memory":"56Gi"}""", sent["resources"]!.ToJsonString());
        Assert.Equal([ArtifactLayout.Run(RunId).Job(kind).Spec, TrainerStore.ContainerUrlOption, Options().StoreLocation], Args(sent));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task The_job_program_reads_what_the_launcher_sends(string kind)
    {
        var launch = await LaunchAsync();
        var sent = launch.SentContainer(kind);
        foreach (var env in sent["env"]!.AsArray())
            Assert.True(TrainerStore.Names.Reads(env!["name"]!.GetValue<string>()), $"the launcher sets {env["name"]}, which the trainer does not read");
        var args = Args(sent);
        // stune-trainer <spec path> --container-url <url>: the trainer's own opener accepts the URL (it opens no
        // connection until the job reads), and the spec there is the job of this kind, as JobRunner parses it.
        Assert.Equal(3, args.Length);
        Assert.Equal(TrainerStore.ContainerUrlOption, args[1]);
        Assert.IsType<BlobArtifactStore>(await TrainerStore.OpenAsync(folder: null, container: null, containerUrl: args[2]));
        Assert.Equal(kind, JobSpec.Parse(launch.StoredSpecs[args[0]], args[0]).Kind);
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
        var options = SettingsTests.FunctionAppOptionsOf(Snapshots.Default);
        return options.Job(options.ArtifactContainer(new FixedToken()));
    }

    static string[] Args(JsonObject container) => container["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToArray();

    sealed class FixedToken : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) => new("arm-token", DateTimeOffset.UtcNow.AddHours(1));
        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) => new(GetToken(requestContext, cancellationToken));
    }
}
