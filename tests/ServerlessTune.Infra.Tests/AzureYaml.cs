using YamlDotNet.Serialization;

namespace ServerlessTune.Infra.Tests;

/// <summary>azure.yaml: the services azd builds and deploys, and its hooks.</summary>
public sealed record AzureYaml(IReadOnlyList<AzureYaml.Service> Services, IReadOnlyDictionary<string, string> PostDeploy)
{
    public sealed record Service(string Name, string Project, string Host, string? Dockerfile, string? Target, string? Context, bool RemoteBuild)
    {
        public string ProjectFolder => Path.GetFullPath(Path.Combine(Repository.Root, Project));
    }

    public static AzureYaml Load()
    {
        var root = new DeserializerBuilder().Build()
            .Deserialize<Dictionary<string, object>>(File.ReadAllText(Path.Combine(Repository.Root, "azure.yaml")));
        var services = Map(root["services"]).Select(s =>
        {
            var service = Map(s.Value);
            var docker = service.TryGetValue("docker", out var d) ? Map(d) : null;
            return new Service((string)s.Key, (string)service["project"], (string)service["host"],
                docker?.GetValueOrDefault("path") as string, docker?.GetValueOrDefault("target") as string, docker?.GetValueOrDefault("context") as string,
                docker?.GetValueOrDefault("remoteBuild") as string == "true");
        }).ToList();
        var postDeploy = Map(Map(root["hooks"])["postdeploy"]).ToDictionary(h => (string)h.Key, h => (string)Map(h.Value)["run"]);
        return new AzureYaml(services, postDeploy);
    }

    static Dictionary<object, object> Map(object node) => (Dictionary<object, object>)node;
}
