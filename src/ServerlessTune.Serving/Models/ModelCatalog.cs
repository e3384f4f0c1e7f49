using System.Collections.Concurrent;
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

/// <summary>A registered version no alias names, servable as {project}@{version}: it loads on its first request.</summary>
public sealed record OnDemandName(string Name, string Project, DateTimeOffset Created);

/// <summary>
/// The servable models by the names clients send: one folder (its folder name), or a registry's projects as
/// <c>{project}</c> (production), <c>{project}:staging</c> and <c>{project}@{version}</c> for every registered version.
/// The registry is polled: when Deploy moves an alias, the new version loads beside the old,
/// new requests go to it, requests in flight finish on the old one, which then unloads. A version that fails to
/// load leaves the old one serving; the failure is logged and reported by /health until the alias moves again.
/// A version no alias names (a rollback target, an A/B comparison) loads when a request first names it (that request
/// gets 503 with Retry-After, as while any model loads), stays while it is used, and unloads after
/// <see cref="PinnedIdle"/> without requests; at most <see cref="MaxPinned"/> such versions are loaded at once.
/// </summary>
public sealed class ModelCatalog : IDisposable
{
    readonly ModelSource source;
    readonly EngineLimits limits;
    readonly ILogger log;
    readonly CancellationTokenSource stopping = new();
    readonly Dictionary<string, ServedModel> loaded = new();          // version key -> model (poll loop only)
    readonly Dictionary<string, string> failed = new();               // version key -> why (poll loop only)
    readonly ConcurrentDictionary<string, DateTimeOffset> pinned = new(); // versions asked for by {project}@{version} -> last request
    readonly SemaphoreSlim refreshNow = new(0, 1);
    ImmutableDictionary<string, ServedModel> names = ImmutableDictionary<string, ServedModel>.Empty;
    ImmutableDictionary<string, OnDemandName> onDemand = ImmutableDictionary<string, OnDemandName>.Empty;
    ImmutableDictionary<string, string> failures = ImmutableDictionary<string, string>.Empty;
    ImmutableList<string> problems = [];
    Task? polling;
    volatile bool firstPassDone;

    /// <summary>How long a version loaded on demand stays after its last request.</summary>
    public static readonly TimeSpan PinnedIdle = TimeSpan.FromMinutes(10);

    /// <summary>Versions loaded on demand at once; asking for another unloads the one used least recently.</summary>
    public const int MaxPinned = 2;

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
                if (onDemand.ContainsKey(name))
                {
                    if (failures.TryGetValue(name, out var why))
                        throw new ProtocolException(503, $"The model '{name}' failed to load: {why}", "model", "model_load_failed");
                    pinned[name] = DateTimeOffset.UtcNow;
                    RefreshSoon();
                    throw new ProtocolException(503, $"The model '{name}' is loading; retry shortly", "model", "model_loading") { RetryAfterSeconds = 2 };
                }
                var known = names.Keys.Order(StringComparer.Ordinal).ToArray();
                throw new ProtocolException(404, $"The model '{name}' does not exist or is not loaded" +
                    (known.Length > 0 ? $" (served: {string.Join(", ", known)})" : ""), "model", "model_not_found");
            }
            // A retired version refuses; the map already names its successor.
            if (model.TryAcquire() is { } lease)
            {
                if (pinned.ContainsKey(name)) pinned[name] = DateTimeOffset.UtcNow;
                return lease;
            }
        }
    }

    void RefreshSoon()
    {
        try { refreshNow.Release(); }
        catch (SemaphoreFullException) { } // a refresh is already due
    }

    public IReadOnlyList<ServedName> Names => [.. names.OrderBy(n => n.Key, StringComparer.Ordinal).Select(n => new ServedName(n.Key, n.Value))];

    /// <summary>Registered versions not loaded now that a request may name (they load on demand).</summary>
    public IReadOnlyList<OnDemandName> OnDemand => [.. onDemand.Values.Where(v => !names.ContainsKey(v.Name)).OrderBy(v => v.Name, StringComparer.Ordinal)];

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
            try { await refreshNow.WaitAsync(interval, ct); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>Loads what the names point at now, switches them, and retires versions nothing names any more.</summary>
    async Task RefreshAsync(CancellationToken ct)
    {
        var (wanted, servable) = await source.WantedAsync(Pinned(), ct);
        onDemand = servable.ToImmutableDictionary(v => v.Name);
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
        // A failure is retried only when an alias (or a request, once the version was dropped) names the version afresh.
        foreach (var key in failed.Keys.Except(wanted.Select(w => w.Version.Key)).ToArray()) failed.Remove(key);
        failures = failed.ToImmutableDictionary();
    }

    /// <summary>The versions asked for by name to keep loaded: used within <see cref="PinnedIdle"/>, the most recent
    /// <see cref="MaxPinned"/>; the rest are forgotten (and so unload).</summary>
    IReadOnlySet<string> Pinned()
    {
        var now = DateTimeOffset.UtcNow;
        var keep = pinned.Where(p => now - p.Value < PinnedIdle).OrderByDescending(p => p.Value).Take(MaxPinned).Select(p => p.Key).ToHashSet();
        foreach (var name in pinned.Keys.Except(keep)) pinned.TryRemove(name, out _);
        return keep;
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

    /// <summary>What to load now (name and version), and the versions that may be loaded on demand.</summary>
    sealed record Wanted(IReadOnlyList<(string Name, WantedVersion Version)> Load, IReadOnlyList<OnDemandName> OnDemand);

    abstract class ModelSource
    {
        public virtual TimeSpan? PollInterval => null;

        /// <param name="pinned">{project}@{version} names requests asked for, to load as well when registered.</param>
        public abstract Task<Wanted> WantedAsync(IReadOnlySet<string> pinned, CancellationToken ct);
    }

    /// <summary>One model folder: served under its folder name; the fingerprint is the folder name too.</summary>
    sealed class FolderSource(string folder, string? adapter, string? template, WeightFormat format) : ModelSource
    {
        public override Task<Wanted> WantedAsync(IReadOnlySet<string> pinned, CancellationToken ct)
        {
            var name = Path.GetFileName(folder.TrimEnd(Path.DirectorySeparatorChar));
            var description = (adapter is null ? folder : $"{folder} + {adapter}") + $" ({format.Name()})";
            var wanted = new WantedVersion(name, name, description, null, _ => Task.Run(() => ChatModel.Load(folder, adapter, template, format)))
            {
                Created = Directory.GetLastWriteTimeUtc(folder),
            };
            return Task.FromResult(new Wanted([(name, wanted)], []));
        }
    }

    /// <summary>Registry aliases of one project, or of every project in the store.</summary>
    sealed class RegistrySource(IArtifactStore store, string? project, TimeSpan interval, WeightFormat? formatOverride) : ModelSource
    {
        readonly ModelRegistry registry = new(store);
        // Registered versions never change, so each is read once, not at every poll.
        readonly Dictionary<string, ModelVersion> versions = new();

        public override TimeSpan? PollInterval => interval;

        /// <summary>Versions a hosted service serves are not loaded here: <see cref="Hosted.HostedRoutes"/> forwards their names.</summary>
        public override async Task<Wanted> WantedAsync(IReadOnlySet<string> pinned, CancellationToken ct)
        {
            var projects = await RegistryNames.ProjectsAsync(registry, project, ct);
            var load = (await RegistryNames.ReadAsync(registry, projects, ct)).Where(n => n.Version.Hosted is null)
                .Select(n => (n.Name, Wanted(n.Version))).ToList();
            var aliased = load.Select(l => l.Item2.Key).ToHashSet();
            var onDemand = new List<OnDemandName>();
            foreach (var p in projects)
                foreach (var name in await registry.VersionNamesAsync(p, ct))
                {
                    var key = $"{p}@{name}";
                    if (!versions.TryGetValue(key, out var v))
                    {
                        if (await registry.GetAsync(p, name, ct) is not { } read) continue;
                        versions[key] = v = read;
                    }
                    if (v.Hosted is not null || aliased.Contains(key)) continue;
                    onDemand.Add(new OnDemandName(key, v.Project, v.CreatedUtc));
                    if (pinned.Contains(key)) load.Add((key, Wanted(v) with { VersionedName = null }));
                }
            return new Wanted(load, onDemand);
        }

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
