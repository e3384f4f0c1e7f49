using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Storage;
using ServerlessTune.Serving.Models;

namespace ServerlessTune.Serving.Hosted;

/// <summary>A model name that a hosted service serves: the registered version and the service's model or deployment.</summary>
public sealed record HostedRoute(string Project, string Version, HostedVersion Target, DateTimeOffset Created);

/// <summary>
/// The registry's names (<c>{project}</c>, <c>{project}:staging</c>, <c>{project}@{version}</c>) whose version was fine-tuned
/// by a hosted service, watched like the model catalog watches its own: when Deploy moves an alias, the next request goes to
/// the new version's deployment. Nothing is loaded, so a switch is a new map and needs no draining.
/// </summary>
public sealed class HostedRoutes : IDisposable
{
    readonly ModelRegistry? registry;
    readonly string? project;
    readonly TimeSpan interval;
    readonly ILogger log;
    readonly CancellationTokenSource stopping = new();
    ImmutableDictionary<string, HostedRoute> routes = ImmutableDictionary<string, HostedRoute>.Empty;
    Task? polling;

    HostedRoutes(ModelRegistry? registry, string? project, TimeSpan interval, ILogger log) =>
        (this.registry, this.project, this.interval, this.log) = (registry, project, interval, log);

    public static HostedRoutes ForRegistry(IArtifactStore store, string? project, TimeSpan interval, ILogger log) =>
        new(new ModelRegistry(store), project, interval, log);

    /// <summary>No registry (a model folder is served): no name is hosted.</summary>
    public static HostedRoutes None(ILogger log) => new(null, null, TimeSpan.Zero, log) { Loaded = true };

    /// <summary>Whether the registry was read once (until then, no name resolves here).</summary>
    public bool Loaded { get; private set; }

    public void Start()
    {
        if (registry is not null) polling = Task.Run(() => PollAsync(stopping.Token));
    }

    public async Task WaitUntilLoadedAsync(CancellationToken ct)
    {
        while (!Loaded) await Task.Delay(50, ct);
    }

    public HostedRoute? Find(string model) => routes.GetValueOrDefault(model);

    public IReadOnlyList<(string Name, HostedRoute Route)> Names => [.. routes.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => (r.Key, r.Value))];

    async Task PollAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                Refresh(await RegistryNames.ReadAsync(registry!, await RegistryNames.ProjectsAsync(registry!, project, ct), ct));
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // As the model catalog does: keep forwarding what was known.
                log.LogWarning("reading the registry for hosted models failed: {Message}", ex.Message);
            }
            Loaded = true;
            try { await Task.Delay(interval, ct); }
            catch (OperationCanceledException) { return; }
        }
    }

    void Refresh(IReadOnlyList<(string Name, ModelVersion Version)> named)
    {
        var next = ImmutableDictionary.CreateBuilder<string, HostedRoute>(StringComparer.Ordinal);
        foreach (var (name, version) in named)
        {
            if (version.Hosted is not { } target) continue;
            var route = new HostedRoute(version.Project, version.Version, target, version.CreatedUtc);
            next[name] = route;
            next[RegistryNames.Versioned(version)] = route;
        }
        var previous = routes;
        routes = next.ToImmutable();
        foreach (var (name, route) in routes)
            if (!previous.TryGetValue(name, out var before) || before != route)
                log.LogInformation("{Name} -> {Version} at {Provider} ({Upstream})", name, route.Version, route.Target.Provider,
                    route.Target.Deployment ?? route.Target.Model);
    }

    public void Dispose()
    {
        stopping.Cancel();
        try { polling?.Wait(TimeSpan.FromSeconds(30)); }
        catch (AggregateException) { }
    }
}
