using ServerlessTune.Core;
using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Serving.Models;

/// <summary>
/// The names clients send for a registry's models, read from its aliases: <c>{project}</c> (production) and
/// <c>{project}:staging</c>, each with the version it points at (also servable as <c>{project}@{version}</c>). The model
/// catalog (open models) and the hosted routes (models a hosted service serves) both resolve names through this one reader.
/// </summary>
static class RegistryNames
{
    public static string Versioned(ModelVersion version) => $"{version.Project}@{version.Version}";

    /// <summary>The one project a server was started for, or every project that has aliases.</summary>
    public static async Task<IReadOnlyList<string>> ProjectsAsync(ModelRegistry registry, string? project, CancellationToken ct) =>
        project is null ? await registry.ProjectsAsync(ct) : [project];

    public static async Task<IReadOnlyList<(string Name, ModelVersion Version)>> ReadAsync(ModelRegistry registry, IReadOnlyList<string> projects,
        CancellationToken ct)
    {
        var named = new List<(string, ModelVersion)>();
        foreach (var p in projects)
        {
            var aliases = await registry.GetAliasesAsync(p, ct);
            foreach (var (alias, name) in new[] { (ModelRegistry.Production, p), (ModelRegistry.Staging, $"{p}:{ModelRegistry.Staging}") })
            {
                if (!aliases.TryGetValue(alias, out var versionName)) continue;
                var version = await registry.GetAsync(p, versionName, ct)
                              ?? throw new UserInputException($"{ArtifactLayout.Registry(p).Aliases}: '{alias}' names version {versionName}, which is not registered");
                named.Add((name, version));
            }
        }
        return named;
    }
}
