using System.Text.RegularExpressions;
using ServerlessTune.Azure.Monitoring;
using ServerlessTune.Azure.Storage;
using ServerlessTune.Core.Hosting;
using ServerlessTune.Functions;
using ServerlessTune.Workflow.Steps;

namespace ServerlessTune.Infra.Tests;

/// <summary>
/// Infra against code for one app: every name the app's code requires is set, every STUNE_ name infra sets is
/// one the app reads, nothing key-based is set where the identity works, and no secret sits in a plain value.
/// Returns one line per problem, naming the app and the setting.
/// </summary>
public static partial class SettingsCheck
{
    /// <summary>
    /// The apps azd deploys (azure.yaml services) and the names their code reads. The Functions app runs the
    /// workflow's steps, so it reads what they read too (the hub download's HF_ENDPOINT and HF_TOKEN).
    /// </summary>
    public static IReadOnlyDictionary<string, EnvironmentNames> Apps() => new Dictionary<string, EnvironmentNames>
    {
        ["functions"] = Union(FunctionAppOptions.Names, FunctionsHost.Names(), HubModelDownloader.Names, AzureMonitorMetrics.Names),
        ["trainer"] = TrainerStore.Names,
        ["serving"] = Union(ServingEnvironment.Names, AzureMonitorMetrics.Names),
    };

    /// <summary>Settings that carry an account key or a connection string: the apps' identities replace all of them.</summary>
    static readonly string[] KeyBased =
        [StoreEnvironment.Connection, TrainerStore.ConnectionVariable, "AzureWebJobsStorage", "AZURE_OPENAI_API_KEY"];

    public static IReadOnlyList<string> Problems(Snapshot deployment) =>
        Apps().SelectMany(app => Problems(deployment, app.Key, app.Value)).ToList();

    public static IReadOnlyList<string> Problems(Snapshot deployment, string service, EnvironmentNames names)
    {
        var resource = deployment.Service(service);
        if (resource is null) return [$"{service}: no resource in infra/ is tagged azd-service-name={service}"];
        var settings = Snapshot.Settings(resource);
        var problems = new List<string>();
        problems.AddRange(settings.GroupBy(s => s.Name).Where(g => g.Count() > 1).Select(g => $"{service}: {g.Key} is set {g.Count()} times"));
        problems.AddRange(names.Required.Where(n => settings.All(s => s.Name != n))
            .Select(n => $"{service}: {n} is read by the code but infra/ does not set it"));
        problems.AddRange(settings.Where(s => s.Name.StartsWith("STUNE_") && !names.Reads(s.Name))
            .Select(s => $"{service}: {s.Name} is set by infra/ but no code of this app reads it"));
        problems.AddRange(settings.Where(s => KeyBased.Contains(s.Name))
            .Select(s => $"{service}: {s.Name} carries a key where the app's managed identity works"));
        problems.AddRange(settings.Where(s => s.Value is { } v && SecretValue().IsMatch(v))
            .Select(s => $"{service}: {s.Name} holds a secret (key or SAS) in a plain value"));
        problems.AddRange(settings.Where(s => SecretName().IsMatch(s.Name) && s.SecretRef is null)
            .Select(s => $"{service}: {s.Name} is a secret in a plain value, not a secret reference"));
        return problems;
    }

    static EnvironmentNames Union(params EnvironmentNames[] lists)
    {
        var required = lists.SelectMany(l => l.Required).Distinct().ToList();
        return new EnvironmentNames(required, lists.SelectMany(l => l.Optional).Distinct().Except(required).ToList());
    }

    [GeneratedRegex(@"listKeys\(|listSecrets\(|AccountKey=|SharedAccessSignature=|[?&]sig=", RegexOptions.IgnoreCase)]
    private static partial Regex SecretValue();

    // A name that says it holds a secret: KEY, SECRET, PASSWORD or TOKEN as one of its words.
    [GeneratedRegex(@"(^|_)(KEY|SECRET|PASSWORD|TOKEN)(_|$)", RegexOptions.IgnoreCase)]
    private static partial Regex SecretName();
}
