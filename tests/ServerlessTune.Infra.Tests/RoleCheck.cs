using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ServerlessTune.Azure.Monitoring;
using ServerlessTune.Core.Hosting;

namespace ServerlessTune.Infra.Tests;

/// <summary>
/// Every role the code needs, assigned to the identity that runs it, on a scope that covers what it touches.
/// The needs come from the code: the Functions host's connections (functions.metadata, host.json), the store
/// each app is given (its settings), the ARM operations the job launcher performs, the hosted path's endpoint.
/// </summary>
public static partial class RoleCheck
{
    // Built-in role definition ids (Azure RBAC built-in roles reference).
    public const string BlobDataOwner = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
    public const string BlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
    public const string QueueDataContributor = "974c5e8b-45b9-4653-ba55-5f855dd0fb88";
    public const string TableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";
    public const string AcrPull = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
    public const string MonitoringMetricsPublisher = "3913510d-42f4-4e42-8a64-420c390055eb";
    public const string OpenAIContributor = "a001fd3d-188f-4b5d-821b-7da978bf7442";
    public const string CognitiveServicesContributor = "25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68";
    public const string KeyVaultSecretsUser = "4633458b-17de-408a-b874-0445c86b69e6";
    // Owner, Contributor, User Access Administrator: nothing the product runs needs them.
    static readonly string[] Broad = ["8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "b24988ac-6180-42a0-ab88-20f3382be4e4", "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"];

    /// <summary>The RBAC operation each ARM request of the launcher is authorized by (Microsoft.App permissions reference).</summary>
    public static string Operation(ArmJobs.Request request) => (request.Method.Method, Tail().Match(request.Path).Groups[1].Value) switch
    {
        ("GET", "") => "Microsoft.App/jobs/read",
        ("POST", "/start") => "Microsoft.App/jobs/start/action",
        ("GET", var t) when t.StartsWith("/executions/") && !t.EndsWith("/stop") => "Microsoft.App/jobs/execution/read",
        ("POST", var t) when t.StartsWith("/executions/") && t.EndsWith("/stop") => "Microsoft.App/jobs/stop/execution/action",
        var other => throw new InvalidOperationException($"no known operation for {other}"),
    };

    public static IReadOnlyList<string> Problems(Snapshot deployment, IReadOnlyList<ArmJobs.Request> launcherRequests)
    {
        var problems = new List<string>();
        var assignments = deployment.RoleAssignments.ToList();
        problems.AddRange(assignments.Where(a => Broad.Contains(a.Role)).Select(a => $"{a.Holder} holds a broad role {a.Role} on {a.Scope}"));

        void Need(JsonObject holder, string what, string scope, params string[] anyOf)
        {
            string id = Snapshot.Id(holder);
            if (!assignments.Any(a => a.Holder == id && anyOf.Contains(a.Role) && Covers(a.Scope, scope)))
                problems.Add($"{Snapshot.Text(holder, "name")} needs {what} on {scope}");
        }

        var functions = deployment.Service("functions")!;
        var settings = Snapshot.Settings(functions).ToDictionary(s => s.Name, s => s.Value ?? "");
        foreach (var connection in FunctionsHost.Connections())
        {
            string account = AccountOf(deployment, settings[$"{connection.Name}__blobServiceUri"]);
            Need(functions, $"blob data ({connection.Name})", account, BlobDataOwner, BlobDataContributor);
            if (connection.Queue) Need(functions, $"queue data ({connection.Name})", account, QueueDataContributor);
            if (connection.Table) Need(functions, $"table data ({connection.Name})", account, TableDataContributor);
        }
        Need(functions, "blob data owner (AzureWebJobsStorage)", AccountId(deployment, settings["AzureWebJobsStorage__accountName"]), BlobDataOwner);
        var insights = Snapshot.Id(Assert.Single(deployment.OfType("Microsoft.Insights/components")));
        foreach (var app in new[] { functions, deployment.Service("serving")! })
            if (Snapshot.Settings(app).Any(s => s.Name == AzureMonitorMetrics.AuthenticationVariable && s.Value == "Authorization=AAD"))
                Need(app, "telemetry publishing", insights, MonitoringMetricsPublisher);
        problems.AddRange(JobOperations(deployment, functions, launcherRequests));
        foreach (var reference in Snapshot.Settings(functions).Where(s => Snapshot.VaultOf(s) is not null))
        {
            string name = Snapshot.VaultOf(reference)!;
            var vault = deployment.OfType("Microsoft.KeyVault/vaults").SingleOrDefault(v => Snapshot.Text(v, "name") == name);
            if (vault is null) problems.Add($"{reference.Name} refers to Key Vault {name}, which the deployment does not create");
            else Need(functions, $"secret reads ({reference.Name})", Snapshot.Id(vault), KeyVaultSecretsUser);
        }
        if (settings.GetValueOrDefault("AZURE_OPENAI_ENDPOINT") is { } endpoint)
        {
            string subdomain = new Uri(endpoint).Host.Split('.')[0];
            var account = deployment.OfType("Microsoft.CognitiveServices/accounts").SingleOrDefault(a => a["properties"]?["customSubDomainName"]?.GetValue<string>() == subdomain);
            if (account is null) problems.Add($"AZURE_OPENAI_ENDPOINT {endpoint} names no Azure OpenAI account of the deployment");
            else
            {
                Need(functions, "fine-tuning jobs and files", Snapshot.Id(account), OpenAIContributor);
                Need(functions, "model deployments", Snapshot.Id(account), CognitiveServicesContributor);
            }
        }

        foreach (string service in new[] { "trainer", "serving" })
        {
            var app = deployment.Service(service)!;
            string container = service == "trainer" ? JobLaunchTests.Options().StoreLocation : StoreOf(Snapshot.Settings(app));
            Need(app, "blob data on its store", ContainerId(deployment, container), BlobDataOwner, BlobDataContributor);
            foreach (var registry in app["properties"]!["configuration"]!["registries"]!.AsArray())
                Need(app, "image pull", RegistryOf().Match(registry!["server"]!.GetValue<string>()).Groups[1].Value, AcrPull);
        }
        return problems;
    }

    /// <summary>The Functions identity's role on the job allows every operation the launcher performs, and no wildcard.</summary>
    static IEnumerable<string> JobOperations(Snapshot deployment, JsonObject functions, IReadOnlyList<ArmJobs.Request> requests)
    {
        string job = Snapshot.Id(deployment.Service("trainer")!);
        var allowed = deployment.RoleAssignments.Where(a => a.Holder == Snapshot.Id(functions) && Covers(a.Scope, job))
            .SelectMany(a => deployment.OfType("Microsoft.Authorization/roleDefinitions").Where(d => Snapshot.Text(d, "name") == a.Role))
            .SelectMany(d => d["properties"]!["permissions"]!.AsArray().SelectMany(p => p!["actions"]!.AsArray()).Select(a => a!.GetValue<string>()))
            .ToList();
        foreach (string wildcard in allowed.Where(a => a.Contains('*')))
            yield return $"the Functions app's role on the job has a wildcard action {wildcard}";
        foreach (string operation in requests.Select(Operation).Distinct().Where(o => !allowed.Contains(o)))
            yield return $"the Functions app cannot {operation} on the job, which its launcher calls";
    }

    static bool Covers(string assigned, string needed) =>
        string.Equals(assigned, needed, StringComparison.OrdinalIgnoreCase) || needed.StartsWith(assigned + "/", StringComparison.OrdinalIgnoreCase);

    static string StoreOf(IReadOnlyList<Snapshot.Setting> settings) =>
        settings.Single(s => s.Name == StoreEnvironment.AccountUrl).Value + settings.Single(s => s.Name == StoreEnvironment.Container).Value;

    /// <summary>The storage account resource an endpoint URL (https://account.blob.suffix/...) names.</summary>
    static string AccountOf(Snapshot deployment, string url) => AccountId(deployment, new Uri(url).Host.Split('.')[0]);

    static string AccountId(Snapshot deployment, string name) =>
        Snapshot.Id(Assert.Single(deployment.OfType("Microsoft.Storage/storageAccounts"), a => Snapshot.Text(a, "name") == name));

    static string ContainerId(Snapshot deployment, string containerUrl)
    {
        var url = new Uri(containerUrl);
        return $"{AccountOf(deployment, containerUrl)}/blobServices/default/containers/{url.AbsolutePath.Trim('/')}";
    }

    [GeneratedRegex(@"/providers/Microsoft\.App/jobs/[^/]+(.*)$", RegexOptions.IgnoreCase)]
    private static partial Regex Tail();

    // A registry's login server is a runtime value: reference('<registry id>', '<api>').loginServer
    [GeneratedRegex(@"^\[reference\('([^']+/Microsoft\.ContainerRegistry/registries/[^']+)', '[^']+'\)\.loginServer\]$")]
    private static partial Regex RegistryOf();
}
