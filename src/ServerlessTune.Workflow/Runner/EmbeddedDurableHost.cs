using System.Net;
using DurableTask.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing.Sidecar;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ServerlessTune.Workflow.Runner;

/// <summary>
/// Where the embedded engine keeps its orchestration state: in memory (gone with the process), or a persistent
/// Durable Task backend such as the Azure Storage provider, whose instances a later process continues.
/// </summary>
/// <param name="Service">Both halves of one backend object: the dispatcher side and the client side.</param>
public sealed record DurableBackend(IOrchestrationService Service, IOrchestrationServiceClient Client, bool Persistent, string Description)
{
    public static DurableBackend InMemory(ILoggerFactory? loggers = null)
    {
        var service = new InMemoryOrchestrationService(loggers ?? NullLoggerFactory.Instance);
        return new DurableBackend(service, service, Persistent: false, "in-memory");
    }
}

/// <summary>
/// The real Durable Task engine in this process over any backend: the gRPC sidecar that dispatches the backend's
/// work items (the one the in-process test host uses, here on a loopback port the OS picks) and a worker and client
/// connected to it. Neither host listens for SIGINT/SIGTERM: the caller decides when to stop, so a signal cannot
/// tear the engine down under a run that is still writing its state.
/// </summary>
public sealed class EmbeddedDurableHost : IAsyncDisposable
{
    readonly WebApplication _sidecar;
    readonly IHost _worker;
    readonly GrpcChannel _channel;

    EmbeddedDurableHost(WebApplication sidecar, IHost worker, GrpcChannel channel)
    {
        _sidecar = sidecar;
        _worker = worker;
        _channel = channel;
        Client = worker.Services.GetRequiredService<DurableTaskClient>();
    }

    public DurableTaskClient Client { get; }

    public static async Task<EmbeddedDurableHost> StartAsync(DurableBackend backend, Action<DurableTaskRegistry> tasks,
        Action<IServiceCollection>? services = null, ILoggerFactory? loggers = null, CancellationToken ct = default)
    {
        loggers ??= NullLoggerFactory.Instance;
        // A persistent backend keeps its queues and tables between processes; creating them is idempotent.
        await backend.Service.CreateIfNotExistsAsync();

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = typeof(EmbeddedDurableHost).Assembly.GetName().Name });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        builder.Services.AddSingleton<IHostLifetime, CallerLifetime>();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(backend.Service);
        builder.Services.AddSingleton(backend.Client);
        builder.Services.AddSingleton<TaskHubGrpcServer>();
        var sidecar = builder.Build();
        sidecar.MapGrpcService<TaskHubGrpcServer>();
        await sidecar.StartAsync(ct);
        var channel = GrpcChannel.ForAddress(sidecar.Urls.Single());

        var workerBuilder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        workerBuilder.Logging.ClearProviders();
        workerBuilder.Services.AddSingleton(loggers);
        workerBuilder.Services.AddSingleton<IHostLifetime, CallerLifetime>();
        services?.Invoke(workerBuilder.Services);
        workerBuilder.Services.AddDurableTaskWorker(worker => worker.UseGrpc(channel).AddTasks(tasks));
        workerBuilder.Services.AddDurableTaskClient(client => client.UseGrpc(channel).RegisterDirectly());
        var workerHost = workerBuilder.Build();
        await workerHost.StartAsync(ct);
        return new EmbeddedDurableHost(sidecar, workerHost, channel);
    }

    /// <summary>Stops the worker first (no new work is taken), then the sidecar, which stops the backend and releases its leases.</summary>
    public async ValueTask DisposeAsync()
    {
        await _worker.StopAsync();
        _worker.Dispose();
        await _channel.ShutdownAsync();
        _channel.Dispose();
        await _sidecar.StopAsync();
        await _sidecar.DisposeAsync();
    }

    /// <summary>A host lifetime that starts and stops only when told to (the default one stops the host on SIGTERM).</summary>
    sealed class CallerLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
