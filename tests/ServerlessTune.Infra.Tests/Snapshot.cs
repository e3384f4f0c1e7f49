using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ServerlessTune.Infra.Tests;

/// <summary>The resources a `bicep snapshot` predicts, with the few views the checks need.</summary>
public sealed partial class Snapshot(JsonObject snapshot)
{
    public const string SubscriptionId = "00000000-0000-0000-0000-0000000000c1";
    public const string ResourceGroup = "rg-stune-ci";

    public JsonObject Json { get; } = snapshot;

    public static Snapshot Parse(string json) => new(JsonNode.Parse(json)!.AsObject());

    public Snapshot Clone() => new(Json.DeepClone().AsObject());

    public IEnumerable<JsonObject> Resources => Json["predictedResources"]!.AsArray().Select(r => r!.AsObject());

    public IEnumerable<JsonObject> OfType(string type) =>
        Resources.Where(r => string.Equals(Text(r, "type"), type, StringComparison.OrdinalIgnoreCase));

    /// <summary>The resource azd deploys a service of azure.yaml to (its azd-service-name tag).</summary>
    public JsonObject? Service(string name) =>
        Resources.SingleOrDefault(r => r["tags"]?["azd-service-name"]?.GetValue<string>() == name);

    public string Output(string name) => Json["outputs"]![name]!.GetValue<string>();

    public IReadOnlyDictionary<string, string> Outputs =>
        Json["outputs"]!.AsObject().ToDictionary(o => o.Key, o => o.Value!.GetValue<string>());

    public static string Text(JsonNode node, string property) => node[property]!.GetValue<string>();

    public static string Id(JsonObject resource) => Text(resource, "id");

    /// <summary>A role assignment: who (the resource whose managed identity it is), what role, on which scope.</summary>
    public sealed record RoleAssignment(string Holder, string Role, string Scope);

    public IEnumerable<RoleAssignment> RoleAssignments => OfType("Microsoft.Authorization/roleAssignments").Select(r =>
    {
        string id = Id(r);
        string scope = id[..id.IndexOf("/providers/Microsoft.Authorization/roleAssignments/", StringComparison.OrdinalIgnoreCase)];
        string principal = Text(r["properties"]!, "principalId");
        var holder = PrincipalOf().Match(principal);
        Assert.True(holder.Success, $"role assignment {id}: principal '{principal}' is not a resource's managed identity");
        string role = Text(r["properties"]!, "roleDefinitionId");
        return new RoleAssignment(holder.Groups[1].Value, role[(role.LastIndexOf('/') + 1)..], scope);
    });

    // ARM's reference to a resource's system-assigned identity: reference('<id>', '<api>', 'full').identity.principalId
    [GeneratedRegex(@"^\[reference\('([^']+)', '[^']+', 'full'\)\.identity\.principalId\]$")]
    private static partial Regex PrincipalOf();

    /// <summary>An environment variable or app setting: a plain value, or a reference to a secret (a container app's
    /// secret, or a Key Vault reference in an App Service setting).</summary>
    public sealed record Setting(string Name, string? Value, string? SecretRef);

    public static IReadOnlyList<Setting> Settings(JsonObject resource) => SettingsArray(resource)
        .Select(s => (Name: Text(s!, "name"), Value: s!["value"]?.ToString(), Ref: s["secretRef"]?.GetValue<string>()))
        .Select(s => KeyVaultReference().IsMatch(s.Value ?? "") ? new Setting(s.Name, null, s.Value) : new Setting(s.Name, s.Value, s.Ref))
        .ToList();

    /// <summary>The vault an App Service Key Vault reference names (its VaultName=... form), or null.</summary>
    public static string? VaultOf(Setting setting) =>
        KeyVaultReference().Match(setting.SecretRef ?? "") is { Success: true } m ? m.Groups[1].Value : null;

    /// <summary>The container app whose ingress address an unresolved ARM value is (https://{fqdn}), or null.</summary>
    public static string? IngressOf(string value) =>
        IngressReference().Match(value) is { Success: true } m ? m.Groups[1].Value : null;

    [GeneratedRegex(@"^\[format\('https://\{0\}', reference\('[^']*/providers/Microsoft\.App/containerApps/([^']+)', '[^']+'\)\.configuration\.ingress\.fqdn\)\]$")]
    private static partial Regex IngressReference();

    [GeneratedRegex(@"^@Microsoft\.KeyVault\(VaultName=([^;]+);SecretName=[^;)]+\)$")]
    private static partial Regex KeyVaultReference();

    /// <summary>A Functions app's siteConfig.appSettings, or the env of a container app's or job's one container.</summary>
    public static JsonArray SettingsArray(JsonObject resource) =>
        resource["properties"]!["siteConfig"]?["appSettings"]?.AsArray() ?? Container(resource)["env"]!.AsArray();

    public static JsonObject Container(JsonObject resource) =>
        Assert.Single(resource["properties"]!["template"]!["containers"]!.AsArray())!.AsObject();
}
