using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Registry;

/// <summary>
/// Model versions and the aliases that point at them, kept as JSON documents in an artifact store.
/// Registration is idempotent per run, so a retried or replayed deploy step never adds a second version.
/// </summary>
public sealed class ModelRegistry(IArtifactStore store)
{
    public const string Production = "production";
    public const string Staging = "staging";
    static readonly string[] Aliases = [Production, Staging];

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>
    /// The version name for a run: the run's start time (sortable) and a short hash of its id (unique).
    /// Both come from the run, so every retry of the deploy step computes the same name.
    /// </summary>
    public static string VersionFor(DateTimeOffset runStartedUtc, string runId) =>
        $"{runStartedUtc.UtcDateTime:yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(runId)))[..8]}";

    /// <summary>Writes model.json, or returns the version already registered by the same run.</summary>
    public async Task<ModelVersion> RegisterAsync(ModelVersion version, CancellationToken ct = default)
    {
        string path = ModelPath(version.Project, version.Version);
        if (await store.ExistsAsync(path, ct))
        {
            var existing = await ReadAsync(path, ct);
            if (existing.RunId != version.RunId)
                throw new UserInputException($"{path}: version {version.Version} already belongs to run {existing.RunId}, not {version.RunId}");
            return existing;
        }
        await store.WriteAllTextAsync(path, JsonSerializer.Serialize(version, Json), ct);
        return version;
    }

    public async Task<ModelVersion?> GetAsync(string project, string version, CancellationToken ct = default)
    {
        string path = ModelPath(project, version);
        return await store.ExistsAsync(path, ct) ? await ReadAsync(path, ct) : null;
    }

    /// <summary>All versions of a project, oldest first (version names sort by the run's start time).</summary>
    public async Task<IReadOnlyList<ModelVersion>> ListAsync(string project, CancellationToken ct = default)
    {
        var versions = new List<ModelVersion>();
        await foreach (var item in store.ListAsync(ArtifactLayout.Registry(project).Versions, ct))
            if (item.Path.EndsWith("/" + RegistryPaths.ModelFile, StringComparison.Ordinal))
                versions.Add(await ReadAsync(item.Path, ct));
        return versions;
    }

    /// <summary>The names of a project's versions, oldest first, without reading them (a server polls this).</summary>
    public async Task<IReadOnlyList<string>> VersionNamesAsync(string project, CancellationToken ct = default)
    {
        var paths = ArtifactLayout.Registry(project);
        var names = new List<string>();
        await foreach (var item in store.ListAsync(paths.Versions, ct))
            if (paths.VersionOf(item.Path) is { } version)
                names.Add(version);
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <summary>Projects that have aliases, in ordinal order.</summary>
    public async Task<IReadOnlyList<string>> ProjectsAsync(CancellationToken ct = default)
    {
        var projects = new List<string>();
        await foreach (var item in store.ListAsync(ArtifactLayout.Registries, ct))
            if (RegistryPaths.ProjectOfAliases(item.Path) is { } project)
                projects.Add(project);
        projects.Sort(StringComparer.Ordinal);
        return projects;
    }

    /// <summary>Alias name to version; aliases never set are absent.</summary>
    public async Task<IReadOnlyDictionary<string, string>> GetAliasesAsync(string project, CancellationToken ct = default) =>
        ParseAliases(AliasesPath(project), (await store.ReadVersionedAsync(AliasesPath(project), ct))?.Text);

    /// <summary>Points an alias at a registered version; moving it to where it already points changes nothing.</summary>
    public Task SetAliasAsync(string project, string alias, string version, CancellationToken ct = default) =>
        MoveAliasAsync(project, alias, version, _ => true, ct);

    /// <summary>
    /// Deploy's move: points the alias at the version unless it already points at a newer one (version names sort by
    /// the run's start), so a late or retried deploy of an older run never takes production back. Returns where the
    /// alias points afterwards.
    /// </summary>
    public Task<string> PromoteAsync(string project, string alias, string version, CancellationToken ct = default) =>
        MoveAliasAsync(project, alias, version, current => string.CompareOrdinal(current, version) < 0, ct);

    /// <summary>
    /// A compare-and-swap loop on aliases.json: read it with its version, change one alias, write it only if nobody
    /// wrote in between, else read again. Two deploys moving aliases at once therefore never lose one's move.
    /// </summary>
    async Task<string> MoveAliasAsync(string project, string alias, string version, Func<string, bool> replaces, CancellationToken ct)
    {
        if (!Aliases.Contains(alias))
            throw new UserInputException($"unknown alias '{alias}': use {string.Join(" or ", Aliases)}");
        if (await GetAsync(project, version, ct) is null)
            throw new UserInputException($"{ModelPath(project, version)}: cannot point '{alias}' at a version that is not registered");
        string path = AliasesPath(project);
        for (int attempt = 0; attempt < MaxAliasAttempts; attempt++)
        {
            var read = await store.ReadVersionedAsync(path, ct);
            var aliases = new Dictionary<string, string>(ParseAliases(path, read?.Text));
            if (aliases.TryGetValue(alias, out var current) && (current == version || !replaces(current))) return current;
            aliases[alias] = version;
            if (await store.TryReplaceAsync(path, JsonSerializer.Serialize(aliases, Json), read?.Version, ct)) return version;
        }
        throw new IOException($"{path}: {MaxAliasAttempts} concurrent writers in a row changed it first; try again");
    }

    const int MaxAliasAttempts = 100;

    static IReadOnlyDictionary<string, string> ParseAliases(string path, string? json)
    {
        if (json is null) return new Dictionary<string, string>();
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, string>>(json, Json)
                   ?? throw new UserInputException($"{path}: null, expected an object of alias names to versions");
        }
        catch (JsonException e)
        {
            throw new UserInputException($"{path}: not an object of alias names to versions: {e.Message}", e);
        }
    }

    /// <summary>The version an alias points at, or the version itself when given a version name; null if neither exists.</summary>
    public async Task<ModelVersion?> ResolveAsync(string project, string aliasOrVersion, CancellationToken ct = default)
    {
        var aliases = await GetAliasesAsync(project, ct);
        return await GetAsync(project, aliases.GetValueOrDefault(aliasOrVersion, aliasOrVersion), ct);
    }

    async Task<ModelVersion> ReadAsync(string path, CancellationToken ct)
    {
        try
        {
            return JsonSerializer.Deserialize<ModelVersion>(await store.ReadAllTextAsync(path, ct), Json)
                   ?? throw new UserInputException($"{path}: null, expected a model version object");
        }
        catch (JsonException e)
        {
            throw new UserInputException($"{path}: invalid model version at {e.Path ?? "$"}: {e.Message}", e);
        }
    }

    static string ModelPath(string project, string version) => ArtifactLayout.Registry(project).Version(version);

    static string AliasesPath(string project) => ArtifactLayout.Registry(project).Aliases;
}
