using System.Reflection;

namespace ServerlessTune.Infra.Tests;

/// <summary>Paths the build wrote into this assembly: the repository, the pinned Bicep CLI, the hosts' build output.</summary>
public static class Repository
{
    public static string Root => Metadata("RepositoryRoot");
    public static string Infra => Path.Combine(Root, "infra");
    public static string BicepPath => Metadata("BicepPath");
    public static string FunctionsOutput => Metadata("FunctionsOutput");
    public static string TrainerOutput => Metadata("TrainerOutput");
    public static string CliOutput => Metadata("CliOutput");

    public static string Metadata(string key) => typeof(Repository).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == key).Value!;
}
