using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Hosted;
using ServerlessTune.Core.Hosting;
using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Tests;
using ServerlessTune.Serving.Hosted;
using ServerlessTune.Workflow.Tests.Hosted;

namespace ServerlessTune.Serving.Tests.Hosted;

/// <summary>
/// A registry whose project was fine-tuned by a hosted service, the loopback OpenAI / Azure OpenAI server that serves its
/// deployments, and the settings that point the serving core at it (plain HTTP: the forwarder trusts no test certificate).
/// </summary>
public sealed class HostedServing : IAsyncDisposable
{
    public const string Project = "harbor";
    public const string TunedA = "gpt-4o-mini-2024-07-18.ft-aaaa";
    public const string TunedB = "gpt-4o-mini-2024-07-18.ft-bbbb";

    readonly TempDir root = new();

    HostedServing(LoopbackOpenAI upstream)
    {
        Upstream = upstream;
        Store = new LocalFolderStore(root.File("store"));
        Registry = new ModelRegistry(Store);
    }

    public LoopbackOpenAI Upstream { get; }
    public LocalFolderStore Store { get; }
    public ModelRegistry Registry { get; }

    public static async Task<HostedServing> StartAsync() => new(await LoopbackOpenAI.StartAsync());

    /// <summary>Both services on the loopback server, each with its key.</summary>
    public HostedUpstreams Upstreams => new(new HostedEndpoints(new Uri(Upstream.PlainRoot, "v1"), LoopbackOpenAI.OpenAIKey, Upstream.PlainRoot,
        LoopbackOpenAI.AzureKey));

    /// <summary>The serving core over the registry, as `stune serve --store` starts it, with <paramref name="upstreams"/> (default: <see cref="Upstreams"/>).</summary>
    public Task<TestServer> ServeAsync(HostedUpstreams? upstreams = null) =>
        TestServer.StartAsync(TestServer.Options(o => o with { Hosted = upstreams ?? Upstreams }), Store);

    /// <summary>Registers a version as Deploy does for a hosted base (its deployment made, the model recorded) and points <paramref name="alias"/> at it.</summary>
    public async Task<ModelVersion> DeployAsync(string version, HostedVersion hosted, string alias = ModelRegistry.Production)
    {
        if (hosted.Deployment is { } deployment) Upstream.Deploy(deployment, hosted.Model);
        var registered = await Registry.RegisterAsync(new ModelVersion
        {
            Project = Project,
            Version = version,
            RunId = $"run-{version}",
            BaseModel = $"{hosted.Provider}:gpt-4o-mini-2024-07-18",
            Adapter = ArtifactLayout.Run($"run-{version}").Job("train").Hosted,
            Hosted = hosted,
            DatasetVersion = "d1",
            Gate = new GateResult(GateMode.Enforce, true, []),
            CreatedUtc = DateTimeOffset.UtcNow,
        });
        await Registry.SetAliasAsync(Project, alias, version);
        return registered;
    }

    public static HostedVersion Azure(string model, string deployment) => new(HostedBaseModel.AzureOpenAI, model, deployment);

    /// <summary>Requests that reached the service's chat completions (either service, any route).</summary>
    public IReadOnlyList<LoopbackOpenAI.Request> ChatRequests =>
        [.. Upstream.Requests.Where(r => r.Method == "POST" && r.Path.EndsWith("/chat/completions", StringComparison.Ordinal))];

    public async ValueTask DisposeAsync()
    {
        await Upstream.DisposeAsync();
        root.Dispose();
    }
}
