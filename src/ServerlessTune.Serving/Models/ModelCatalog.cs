using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using ServerlessTune.Core;
using ServerlessTune.Core.Generation;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Storage;
using ServerlessTune.Serving.Engine;
using ServerlessTune.Serving.Protocol;

namespace ServerlessTune.Serving.Models;

/// <summary>A model name clients may send, and the version it serves now.</summary>
public sealed record ServedName(string Name, ServedModel Model);

/// <summary>
/// The servable models by the names clients send: one folder (its folder name), or a registry's projects as
/// <c>{project}</c> (production), <c>{project}:staging</c> and <c>{project}@{version}</c> for every version an
/// alias points at. The registry is polled: when Deploy moves an alias, the new version loads beside the old,
/// new requests go to it, requests in flight finish on the old one, which then unloads. A version that fails to
/// load leaves the old one serving; the failure is logged and reported by /health until the alias moves again.
/// </summary>
public sealed class ModelCatalog : IDisposable
{
    readonly ModelSource source;
    readonly EngineLimits limits;
    readonly ILogger log;
    readonly CancellationTokenSource stopping = new();
    readonly Dictionary<string, ServedModel> loaded = new();          // version key -> model (poll loop only)
    readonly Dictionary<string, string> failed = new();               // version key -> why (poll loop only)
    ImmutableDictionary<string, ServedModel> names = ImmutableDictionary<string, ServedModel>.Empty;
    ImmutableList<string> problems = [];
    Task? polling;
    volatile bool firstPassDone;

    ModelCatalog(ModelSource source, EngineLimits limits, ILogger log) => (this.source, this.limits, this.log) = (source, limits, log);

    /// <param name="format">How to hold the weights; null = fp32.</param>
    public static ModelCatalog ForFolder(string folder, string? adapter, string? chatTemplate, WeightFormat? format, EngineLimits limits, ILogger log) =>
        new(new FolderSource(Path.GetFullPath(folder), adapter, chatTemplate, format ?? WeightFormat.Fp32), limits, log);

    /// <param name="format">Overrides the format each version was deployed with (deploy.format); null = the version's own.</param>
    public static ModelCatalog ForRegistry(IArtifactStore store, string? project, TimeSpan pollInterval, WeightFormat? format, EngineLimits limits, ILogger log) =>
        new(new RegistrySource(store, project, pollInterval, format), limits, log);

    /// <summary>Starts loading (and, for a registry, watching) in the background; /health says when it is ready.</summary>
    public void Start() => polling = Task.Run(() => PollAsync(stopping.Token));

    /// <summary>Waits for the first load attempt of everything the source names (for hosts and tests that need a model now).</summary>
    public async Task WaitUntilLoadedAsync(CancellationToken ct)
    {
        while (!firstPassDone) await Task.Delay(50, ct);
    }

    /// <summary>A lease on the version <paramref name="name"/> serves now; 404 for unknown names, 503 while loading.</summary>
    public ServedModel.Lease Acquire(string name)
    {
        while (true)
        {
            if (!names.TryGetValue(name, out var model))
            {
                if (!firstPassDone)
                    throw new ProtocolException(503, "the model is still loading", "model", "model_loading") { RetryAfterSeconds = 2 };
                var known = names.Keys.Order(StringComparer.Ordinal).ToArray();
                throw new ProtocolException(404, $"The model '{name}' does not exist or is not loaded" +
                    (known.Length > 0 ? $" (served: {string.Join(", ", known)})" : ""), "model", "model_not_found");
            }
            // A retired version refuses; the map already names its successor.
            if (model.TryAcquire() is { } lease) return lease;
        }
    }

    public IReadOnlyList<ServedName> Names => [.. names.OrderBy(n => n.Key, StringComparer.Ordinal).Select(n => new ServedName(n.Key, n.Value))];

    public const string NothingToServe = "no model to serve";

    /// <summary>Ready once something serves and the first load finished; problems are the failed loads.</summary>
    public (bool Ready, string Status, IReadOnlyList<string> Problems) Health()
    {
        if (!firstPassDone) return (false, "loading", problems);
        if (names.IsEmpty) return (false, problems.IsEmpty ? NothingToServe : "no model loaded", problems);
        return (true, "ok", problems);
    }

    async Task PollAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await RefreshAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The registry could not be read (a half-configured store, a network blip): keep serving what is loaded.
                log.LogWarning("reading the registry failed: {Message}", ex.Message);
                problems = [$"reading the registry failed: {ex.Message}"];
            }
            firstPassDone = true;
            if (source.PollInterval is not { } interval) return;
            try { await Task.Delay(interval, ct); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>Loads what the names point at now, switches them, and retires versions nothing names any more.</summary>
    async Task RefreshAsync(CancellationToken ct)
    {
        var wanted = await source.WantedAsync(ct);
        var next = ImmutableDictionary.CreateBuilder<string, ServedModel>();
        var newProblems = new List<string>();
        foreach (var (name, version) in wanted)
        {
            if (!loaded.TryGetValue(version.Key, out var model) && !failed.ContainsKey(version.Key))
                model = await LoadAsync(version, ct);
            if (model is null)
            {
                newProblems.Add($"{name}: {version.Key} failed to load: {failed[version.Key]}");
                // The version loaded before keeps serving this name.
                if (names.TryGetValue(name, out var old))
                {
                    next[name] = old;
                    if (version.VersionedName is not null) next[$"{version.Project}@{old.Version}"] = old;
                }
                continue;
            }
            next[name] = model;
            if (version.VersionedName is { } versioned) next[versioned] = model;
        }
        var previous = names;
        names = next.ToImmutable();
        problems = [.. newProblems];
        foreach (var (name, model) in names)
            if (!previous.TryGetValue(name, out var before) || before != model)
                log.LogInformation("{Name} -> {Version} ({Source})", name, model.Version, model.Source);
        var inUse = names.Values.ToHashSet();
        foreach (var (key, model) in loaded.ToArray())
            if (!inUse.Contains(model))
            {
                log.LogInformation("unloading {Version} once its {Count} running sequence(s) finish", model.Version, model.Engine.InFlight);
                loaded.Remove(key);
                model.Retire();
            }
        // A failure is retried only when an alias names the version afresh.
        foreach (var key in failed.Keys.Except(wanted.Select(w => w.Version.Key)).ToArray()) failed.Remove(key);
    }

    async Task<ServedModel?> LoadAsync(WantedVersion version, CancellationToken ct)
    {
        log.LogInformation("loading {Version} from {Source}", version.Key, version.Description);
        var files = version.Files;
        try
        {
            var model = await version.LoadAsync(ct);
            var served = new ServedModel(version.Version, version.Project, version.Description, version.Created, model, limits, log,
                files is null ? null : files.Dispose);
            loaded[version.Key] = served;
            log.LogInformation("loaded {Version}", version.Key);
            return served;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            files?.Dispose();
            failed[version.Key] = ex.Message;
            log.LogError("{Version} failed to load: {Message}", version.Key, ex.Message);
            return null;
        }
    }

    public void Dispose()
    {
        stopping.Cancel();
        try { polling?.Wait(TimeSpan.FromSeconds(30)); }
        catch (AggregateException) { }
        foreach (var model in loaded.Values) model.Dispose();
        loaded.Clear();
        names = ImmutableDictionary<string, ServedModel>.Empty;
    }

    /// <summary>A version some name should serve, and how to load it.</summary>
    sealed record WantedVersion(string Project, string Version, string Description, LocalArtifacts? Files, Func<CancellationToken, Task<ChatModel>> LoadAsync)
    {
        public string Key => $"{Project}@{Version}";
        /// <summary>{project}@{version} for registry versions; a folder has no other name.</summary>
        public string? VersionedName { get; init; }
        public DateTimeOffset Created { get; init; } = DateTimeOffset.UtcNow;
    }

    abstract class ModelSource
    {
        public virtual TimeSpan? PollInterval => null;
        public abstract Task<IReadOnlyList<(string Name, WantedVersion Version)>> WantedAsync(CancellationToken ct);
    }

    /// <summary>One model folder: served under its folder name; the fingerprint is the folder name too.</summary>
    sealed class FolderSource(string folder, string? adapter, string? template, WeightFormat format) : ModelSource
    {
        public override Task<IReadOnlyList<(string, WantedVersion)>> WantedAsync(CancellationToken ct)
        {
            var name = Path.GetFileName(folder.TrimEnd(Path.DirectorySeparatorChar));
            var description = (adapter is null ? folder : $"{folder} + {adapter}") + $" ({format.Name()})";
            var wanted = new WantedVersion(name, name, description, null, _ => Task.Run(() => ChatModel.Load(folder, adapter, template, format)))
            {
                Created = Directory.GetLastWriteTimeUtc(folder),
            };
            return Task.FromResult<IReadOnlyList<(string, WantedVersion)>>([(name, wanted)]);
        }
    }

    /// <summary>Registry aliases of one project, or of every project in the store.</summary>
    sealed class RegistrySource(IArtifactStore store, string? project, TimeSpan interval, WeightFormat? formatOverride) : ModelSource
    {
        readonly ModelRegistry registry = new(store);

        public override TimeSpan? PollInterval => interval;

        /// <summary>Versions a hosted service serves are not loaded here: <see cref="Hosted.HostedRoutes"/> forwards their names.</summary>
        public override async Task<IReadOnlyList<(string, WantedVersion)>> WantedAsync(CancellationToken ct) =>
        [
            .. (await RegistryNames.ReadAsync(registry, project, ct)).Where(n => n.Version.Hosted is null).Select(n => (n.Name, Wanted(n.Version))),
        ];

        WantedVersion Wanted(ModelVersion v)
        {
            var files = new LocalArtifacts(store);
            var format = formatOverride ?? v.Format ?? WeightFormat.Fp32;
            return new WantedVersion(v.Project, v.Version, $"{v.BaseModel} + {v.Adapter} ({format.Name()})", files, LoadAsync)
            {
                VersionedName = RegistryNames.Versioned(v),
                Created = v.CreatedUtc,
            };

            async Task<ChatModel> LoadAsync(CancellationToken ct)
            {
                var tuned = await FineTunedModel.AtAsync(store, v.Adapter, ct);
                var folder = await files.FolderAsync(tuned.Prefix, ct);
                var baseFolder = tuned.IsAdapter ? await files.FolderAsync(v.BaseModel, ct) : null;
                return await Task.Run(() => baseFolder is null
                    ? ChatModel.Load(folder, null, v.ChatTemplate, format)
                    : ChatModel.Load(baseFolder, folder, v.ChatTemplate, format), ct);
            }
        }
    }
}
