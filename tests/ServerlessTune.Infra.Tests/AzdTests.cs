using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ServerlessTune.Infra.Tests;

/// <summary>azure.yaml against infra/: every service has the one resource azd deploys it to, built in the registry.</summary>
public sealed partial class AzdTests
{
    static readonly Dictionary<string, string[]> HostTypes = new()
    {
        ["function"] = ["Microsoft.Web/sites"],
        ["containerapp"] = ["Microsoft.App/containerApps", "Microsoft.App/jobs"],
    };

    [Fact]
    public void Every_service_deploys_to_one_tagged_resource_and_every_tagged_resource_is_a_service()
    {
        var yaml = AzureYaml.Load();
        foreach (var service in yaml.Services)
        {
            var resource = Snapshots.Default.Service(service.Name);
            Assert.True(resource is not null, $"azure.yaml service {service.Name}: no resource tagged azd-service-name={service.Name}");
            Assert.Contains(Snapshot.Text(resource, "type"), HostTypes[service.Host]);
        }
        var tagged = Snapshots.Default.Resources.Select(r => r["tags"]?["azd-service-name"]?.GetValue<string>()).OfType<string>();
        Assert.Equal(yaml.Services.Select(s => s.Name).Order(), tagged.Order());
        Assert.Equal(["functions", "serving", "trainer"], yaml.Services.Select(s => s.Name).Order());
    }

    [Fact]
    public void Container_services_build_in_the_registry_from_a_Dockerfile_with_the_repository_as_context()
    {
        var containers = AzureYaml.Load().Services.Where(s => s.Host == "containerapp").ToList();
        Assert.Equal(2, containers.Count);
        foreach (var service in containers)
        {
            Assert.True(service.RemoteBuild, $"{service.Name}: docker.remoteBuild must be true (developers may have no Docker)");
            Assert.True(File.Exists(Path.Combine(service.ProjectFolder, service.Dockerfile!)), $"{service.Name}: no {service.Dockerfile} in {service.Project}");
            Assert.Equal(Repository.Root.TrimEnd('/'), Path.GetFullPath(Path.Combine(service.ProjectFolder, service.Context!)).TrimEnd('/'));
        }
        // azd pushes to the registry the deployment names, and hands each built image back as a parameter.
        Assert.Contains("AZURE_CONTAINER_REGISTRY_ENDPOINT", Snapshots.Default.Outputs.Keys);
        var parameters = JsonNode.Parse(File.ReadAllText(Path.Combine(Repository.Infra, "main.parameters.json")))!["parameters"]!.AsObject();
        foreach (var service in containers)
            Assert.Contains(parameters, p => p.Value!["value"]!.GetValue<string>().StartsWith($"${{SERVICE_{service.Name.ToUpperInvariant()}_IMAGE_NAME"));
    }

    [Fact]
    public void The_parameters_file_names_only_parameters_main_bicep_declares()
    {
        var declared = Param().Matches(File.ReadAllText(Snapshots.MainTemplate)).Select(m => m.Groups[1].Value).ToHashSet();
        var parameters = JsonNode.Parse(File.ReadAllText(Path.Combine(Repository.Infra, "main.parameters.json")))!["parameters"]!.AsObject();
        Assert.All(parameters.Select(p => p.Key), name => Assert.Contains(name, declared));
    }

    [Fact]
    public void The_postdeploy_hook_deploys_the_dataset_subscription_on_every_platform()
    {
        var hooks = AzureYaml.Load().PostDeploy;
        Assert.Equal(["posix", "windows"], hooks.Keys.Order());
        Assert.All(hooks.Values, run => Assert.Contains("--parameters infra/dataset-events.bicepparam", run));
        // The key the webhook needs is read inside the deployment, never by the hook.
        Assert.All(hooks.Values, run => Assert.DoesNotContain("keys", run));
    }

    [GeneratedRegex(@"^param (\w+) ", RegexOptions.Multiline)]
    private static partial Regex Param();
}
