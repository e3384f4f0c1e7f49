using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ServerlessTune.Core.Storage;
using ServerlessTune.Serving.Hosted;
using ServerlessTune.Serving.Http;
using ServerlessTune.Serving.Logging;
using ServerlessTune.Serving.Models;
using Yarp.ReverseProxy.Forwarder;

namespace ServerlessTune.Serving;

/// <summary>
/// The one way to run the server: `stune serve`, the Azure serving container and the tests start it alike.
/// Kestrel on the options' address, the catalog loading in the background (/health answers 503 until a model is
/// ready), logs on stderr so stdout stays free for a command's result.
/// </summary>
public sealed class ServingApp : IAsyncDisposable
{
    readonly WebApplication app;

    readonly HostedForwarder forwarder;

    ServingApp(WebApplication app, ModelCatalog catalog, HostedRoutes hosted, HostedForwarder forwarder, ConversationLog? conversations,
        ServingOptions options, Uri address)
    {
        this.app = app;
        this.forwarder = forwarder;
        Hosted = hosted;
        Conversations = conversations;
        Catalog = catalog;
        Options = options;
        Address = address;
    }

    public ModelCatalog Catalog { get; }
    /// <summary>The registry's names that a hosted service serves (forwarded to it).</summary>
    public HostedRoutes Hosted { get; }
    /// <summary>The conversation and feedback log in the store; null when serving a model folder without a store.</summary>
    public ConversationLog? Conversations { get; }
    /// <summary>The validated options; ApiKey is set (generated on loopback when none was given).</summary>
    public ServingOptions Options { get; }
    /// <summary>The bound address (the real port when the options asked for 0).</summary>
    public Uri Address { get; }

    /// <param name="store">The registry's store (a folder or a blob container the host opened), where conversations and feedback are
    /// logged too; with a model folder it may be null (nothing is logged).</param>
    /// <param name="hostServices">What the host adds, e.g. an exporter of <see cref="ServingMetrics.MeterName"/>.</param>
    public static async Task<ServingApp> StartAsync(ServingOptions options, IArtifactStore? store, ILoggerFactory? loggerFactory = null,
        Action<IServiceCollection>? hostServices = null, CancellationToken ct = default)
    {
        if (options.ApiKey is null) throw new ArgumentException("validate the options first (ServingOptions.Validated)");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (loggerFactory is not null) builder.Services.AddSingleton(loggerFactory);
        else builder.Logging.AddSimpleConsole(o => o.SingleLine = true).AddFilter("Microsoft", LogLevel.Warning)
            .Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.Limits.MaxBodyBytes;
            k.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
        });
        builder.Services.AddMetrics().AddSingleton<ServingMetrics>();
        builder.Services.AddHttpForwarder();
        hostServices?.Invoke(builder.Services);
        builder.WebHost.UseUrls($"http://{(options.Host.Contains(':') ? $"[{options.Host}]" : options.Host)}:{options.Port}");
        var app = builder.Build();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("stune.serve");
        var catalog = options.ModelFolder is { } folder
            ? ModelCatalog.ForFolder(folder, options.Adapter, options.ChatTemplate, options.Format, options.Engine, log)
            : ModelCatalog.ForRegistry(store ?? throw new ArgumentNullException(nameof(store), "a registry needs a store"),
                options.Project, options.PollInterval, options.Format, options.Engine, log);
        var hosted = options.ModelFolder is null
            ? HostedRoutes.ForRegistry(store!, options.Project, options.PollInterval, log)
            : HostedRoutes.None(log);
        var conversations = store is null ? null : new ConversationLog(store, options.RedactPii, options.LogFlushInterval, log);
        var forwarder = new HostedForwarder(app.Services.GetRequiredService<IHttpForwarder>(), options.Hosted, options.Limits, conversations,
            app.Services.GetRequiredService<ServingMetrics>(), log);
        ServingEndpoints.Map(app, catalog, hosted, forwarder, options, conversations, log);
        catalog.Start();
        hosted.Start();
        try
        {
            await app.StartAsync(ct);
        }
        catch
        {
            catalog.Dispose();
            hosted.Dispose();
            forwarder.Dispose();
            if (conversations is not null) await conversations.DisposeAsync();
            await app.DisposeAsync();
            throw;
        }
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ServingApp(app, catalog, hosted, forwarder, conversations, options, new Uri(bound.Replace("0.0.0.0", "127.0.0.1").Replace("[::]", "[::1]")));
    }

    public Task WaitForShutdownAsync(CancellationToken ct) => app.WaitForShutdownAsync(ct);

    /// <summary>The server's services, for a host that added its own (an exporter it must flush).</summary>
    public IServiceProvider Services => app.Services;

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        Catalog.Dispose();
        Hosted.Dispose();
        forwarder.Dispose();
        // After the server stopped, so the last answered requests are in the final batch.
        if (Conversations is not null) await Conversations.DisposeAsync();
        await app.DisposeAsync();
    }
}
