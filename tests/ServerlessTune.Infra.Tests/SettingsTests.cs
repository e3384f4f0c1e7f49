using Azure.Core;
using Microsoft.Extensions.Configuration;
using ServerlessTune.Azure.Monitoring;
using ServerlessTune.Core.Hosting;
using ServerlessTune.Functions;
using ServerlessTune.Workflow.Steps;

namespace ServerlessTune.Infra.Tests;

public sealed class SettingsTests
{
    [Theory]
    [MemberData(nameof(Snapshots.Both), MemberType = typeof(Snapshots))]
    public void Every_setting_the_code_reads_is_set_for_its_app_and_none_is_a_secret(string deployment)
    {
        Assert.Empty(SettingsCheck.Problems(Snapshots.Named(deployment)));
    }

    [Fact]
    public void Removing_any_setting_the_code_reads_from_infra_is_reported_by_name()
    {
        int removed = 0;
        foreach (var (service, names) in SettingsCheck.Apps())
        {
            foreach (string name in names.Required)
            {
                var broken = Snapshots.Default.Clone();
                var settings = Snapshot.SettingsArray(broken.Service(service)!);
                settings.Remove(settings.Single(s => s!["name"]!.GetValue<string>() == name));

                Assert.Equal([$"{service}: {name} is read by the code but infra/ does not set it"], SettingsCheck.Problems(broken));
                removed++;
            }
        }
        // The trainer needs nothing from its environment in Azure (its arguments carry the store). The Functions
        // host adds four names to FunctionAppOptions': its own storage account, the queue and table endpoints
        // of the STUNE_STORAGE connection (the blob trigger and the Durable task hub) and the retrain timer's schedule.
        // Both the Functions app (its front door's hosted answers) and the serving app read the Application Insights
        // names their metrics exporter needs.
        int exporter = AzureMonitorMetrics.Names.Required.Count;
        Assert.Equal(FunctionAppOptions.Names.Required.Count + 4 + exporter + ServingEnvironment.Names.Required.Count + exporter, removed);
    }

    [Fact]
    public void The_retrain_timer_runs_on_the_schedule_infra_sets_by_default()
    {
        Assert.Contains(FunctionAppOptions.RetrainScheduleSetting, FunctionsHost.BindingExpressions());
        var functions = Snapshot.Settings(Snapshots.Default.Service("functions")!).ToDictionary(s => s.Name);
        Assert.Equal(FunctionAppOptions.DefaultRetrainSchedule, functions[FunctionAppOptions.RetrainScheduleSetting].Value);
        // NCRONTAB as the Functions timer reads it: six fields, seconds first.
        Assert.Equal(6, FunctionAppOptions.DefaultRetrainSchedule.Split(' ').Length);
        var sample = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(Repository.Root, "local.settings.sample.json")))!;
        Assert.Equal(FunctionAppOptions.DefaultRetrainSchedule, (string?)sample["Values"]![FunctionAppOptions.RetrainScheduleSetting]);
    }

    [Fact]
    public void A_key_a_dead_setting_or_a_plain_secret_in_infra_is_reported()
    {
        var broken = Snapshots.Default.Clone();
        var functions = Snapshot.SettingsArray(broken.Service("functions")!);
        functions.Add(Setting(StoreEnvironment.Connection, "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=c2VjcmV0"));
        functions.Add(Setting("STUNE_JOB_IMAGE", "example.azurecr.io/stune-trainer:1"));
        functions.Add(Setting(HubModelDownloader.TokenVariable, "hf_plain"));
        var serving = Snapshot.SettingsArray(broken.Service("serving")!);
        var key = serving.Single(s => s!["name"]!.GetValue<string>() == ServingEnvironment.ApiKey)!.AsObject();
        key.Remove("secretRef");
        key["value"] = "not-so-secret";

        Assert.Equal(
        [
            $"functions: {HubModelDownloader.TokenVariable} is a secret in a plain value, not a secret reference",
            "functions: STUNE_JOB_IMAGE is set by infra/ but no code of this app reads it",
            $"functions: {StoreEnvironment.Connection} carries a key where the app's managed identity works",
            $"functions: {StoreEnvironment.Connection} holds a secret (key or SAS) in a plain value",
            $"serving: {ServingEnvironment.ApiKey} is a secret in a plain value, not a secret reference",
        ], SettingsCheck.Problems(broken).Order());
    }

    [Fact]
    public void The_Functions_app_starts_on_the_settings_infra_gives_it_and_sends_the_job_to_its_own_container()
    {
        var options = FunctionAppOptionsOf(Snapshots.Default);
        var job = options.Job(options.ArtifactContainer(NoCredential.Instance));

        var account = Assert.Single(Snapshots.Default.OfType("Microsoft.Storage/storageAccounts"));
        Assert.Equal($"https://{Snapshot.Text(account, "name")}.blob.core.windows.net/artifacts", job.StoreLocation);
        Assert.Equal(Snapshot.Text(Snapshots.Default.Service("trainer")!, "name"), job.JobName);
        Assert.Equal((Snapshot.SubscriptionId, Snapshot.ResourceGroup), (job.SubscriptionId, job.ResourceGroup));
    }

    [Fact]
    public void FunctionAppOptions_Names_lists_exactly_what_From_requires()
    {
        var values = FunctionAppOptions.Names.Required.ToDictionary(n => n, n => n switch
        {
            StoreEnvironment.AccountUrl => "https://a.blob.core.windows.net/",
            FunctionAppOptions.ServingUrlSetting => "https://serving.example/",
            _ => "x",
        });
        FunctionAppOptions.From(Configuration(values));
        foreach (string name in FunctionAppOptions.Names.Required)
        {
            var error = Assert.Throws<InvalidOperationException>(() => FunctionAppOptions.From(Configuration(values.Where(v => v.Key != name))));
            Assert.Contains(name, error.Message);
        }
    }

    [Fact]
    public void The_local_settings_sample_works_with_the_Functions_app()
    {
        var sample = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(Repository.Root, "local.settings.sample.json")))!;
        var values = sample["Values"]!.AsObject().Select(v => KeyValuePair.Create(v.Key, v.Value!.GetValue<string>()));
        Assert.Equal("artifacts", FunctionAppOptions.From(Configuration(values)).Container);
    }

    /// <summary>FunctionAppOptions as the Functions app reads them from the app settings infra/ gives it.</summary>
    public static FunctionAppOptions FunctionAppOptionsOf(Snapshot deployment) =>
        FunctionAppOptions.From(Configuration(deployment.Service("functions")!));

    static System.Text.Json.Nodes.JsonObject Setting(string name, string value) => new() { ["name"] = name, ["value"] = value };

    // What ARM and App Service resolve at deployment: a container app's ingress address, a Key Vault reference's secret.
    static IConfiguration Configuration(System.Text.Json.Nodes.JsonObject resource) =>
        Configuration(Snapshot.Settings(resource).Select(s => KeyValuePair.Create(s.Name,
            s.SecretRef is not null ? $"secret-of-{s.Name}"
            : Snapshot.IngressOf(s.Value ?? "") is { } app ? $"https://{app}.example.azurecontainerapps.io"
            : s.Value ?? "")));

    [Fact]
    public void The_front_door_forwards_to_the_serving_app_with_keys_from_the_vault()
    {
        var functions = Snapshot.Settings(Snapshots.Default.Service("functions")!).ToDictionary(s => s.Name);
        Assert.Equal(Snapshot.Text(Snapshots.Default.Service("serving")!, "name"), Snapshot.IngressOf(functions[FunctionAppOptions.ServingUrlSetting].Value!));
        var vault = Snapshot.Text(Assert.Single(Snapshots.Default.OfType("Microsoft.KeyVault/vaults")), "name");
        Assert.Equal(vault, Snapshot.VaultOf(functions[ServingEnvironment.ApiKey]));
        Assert.Equal(vault, Snapshot.VaultOf(functions[FunctionAppOptions.ServingApiKeySetting]));
        var options = FunctionAppOptionsOf(Snapshots.Default).FrontDoor;
        Assert.Equal("https", options.BackendUrl.Scheme);
    }

    // As the Functions host hands app settings to the worker: environment variables, `__` read as `:`.
    static IConfiguration Configuration(IEnumerable<KeyValuePair<string, string>> settings) => new ConfigurationBuilder()
        .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(EnvironmentNames.ConfigurationKey(s.Key), (string?)s.Value)))
        .Build();

    /// <summary>Opening a container by URL takes a credential; nothing here asks it for a token.</summary>
    sealed class NoCredential : TokenCredential
    {
        public static readonly NoCredential Instance = new();
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) => throw new InvalidOperationException("no token in tests");
        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) => throw new InvalidOperationException("no token in tests");
    }
}
