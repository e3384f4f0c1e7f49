namespace ServerlessTune.Infra.Tests;

/// <summary>Keys are off wherever an identity works, and nothing in the deployment reads one.</summary>
public sealed class IdentityTests
{
    [Theory]
    [MemberData(nameof(Snapshots.Both), MemberType = typeof(Snapshots))]
    public void Storage_takes_no_shared_key_and_the_deployment_reads_no_key(string name)
    {
        var deployment = Snapshots.Named(name);
        var account = Assert.Single(deployment.OfType("Microsoft.Storage/storageAccounts"))["properties"]!;
        Assert.False(account["allowSharedKeyAccess"]!.GetValue<bool>());
        Assert.False(account["allowBlobPublicAccess"]!.GetValue<bool>());
        string text = deployment.Json.ToJsonString();
        foreach (string keyRead in new[] { "listKeys(", "listSecrets(", "listConnectionStrings(", "listCredentials(" })
            Assert.DoesNotContain(keyRead, text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Every_consumer_of_a_key_based_service_uses_its_identity_instead()
    {
        var deployment = Snapshots.Default;
        var functions = deployment.Service("functions")!["properties"]!["functionAppConfig"]!;
        Assert.Equal("SystemAssignedIdentity", functions["deployment"]!["storage"]!["authentication"]!["type"]!.GetValue<string>());
        var environment = Assert.Single(deployment.OfType("Microsoft.App/managedEnvironments"))["properties"]!;
        Assert.Equal("azure-monitor", environment["appLogsConfiguration"]!["destination"]!.GetValue<string>());
        Assert.False(Assert.Single(deployment.OfType("Microsoft.ContainerRegistry/registries"))["properties"]!["adminUserEnabled"]!.GetValue<bool>());
        Assert.True(Assert.Single(deployment.OfType("Microsoft.Insights/components"))["properties"]!["DisableLocalAuth"]!.GetValue<bool>());
        foreach (var app in new[] { deployment.Service("trainer")!, deployment.Service("serving")! })
        {
            Assert.Equal("SystemAssigned", app["identity"]!["type"]!.GetValue<string>());
            Assert.All(app["properties"]!["configuration"]!["registries"]!.AsArray(), r => Assert.Equal("system", r!["identity"]!.GetValue<string>()));
        }
    }

    [Fact]
    public void The_serving_app_scales_to_zero_on_the_profile_the_parameter_names()
    {
        foreach (var (deployment, profile) in new[] { (Snapshots.Default, "Consumption"), (Snapshots.Hosted, "gpu-a100") })
        {
            var serving = deployment.Service("serving")!["properties"]!;
            Assert.Equal(0, serving["template"]!["scale"]!["minReplicas"]!.GetValue<int>());
            Assert.Equal(profile, serving["workloadProfileName"]!.GetValue<string>());
            var environment = Assert.Single(deployment.OfType("Microsoft.App/managedEnvironments"))["properties"]!;
            Assert.Contains(environment["workloadProfiles"]!.AsArray(), p => p!["name"]!.GetValue<string>() == profile);
            Assert.True(serving["configuration"]!["ingress"]!["external"]!.GetValue<bool>());
        }
    }
}
