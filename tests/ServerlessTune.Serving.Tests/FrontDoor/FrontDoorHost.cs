using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenAI;
using ServerlessTune.Functions;
using ServerlessTune.Core.Storage;
using ServerlessTune.Functions.FrontDoor;
using ServerlessTune.Serving.Hosted;

namespace ServerlessTune.Serving.Tests.FrontDoor;

/// <summary>
/// The Functions app's <see cref="ServingApi"/> on Kestrel, routed as the Functions host routes it (host.json's route
/// prefix, each function's HttpTrigger route and methods) and handed the real HttpContext as the ASP.NET Core
/// integration hands it. The Functions host itself cannot run here.
/// </summary>
public sealed class FrontDoorHost : IAsyncDisposable
{
    public const string Key = "sk-front-door";

    readonly WebApplication app;
    readonly Core.Tests.TempDir? emptyStore;

    FrontDoorHost(WebApplication app, Uri address, Core.Tests.TempDir? emptyStore)
    {
        this.app = app;
        this.emptyStore = emptyStore;
        Address = address;
        Http = Client();
    }

    public Uri Address { get; }
    /// <summary>A client that sends the front door's key as a bearer token.</summary>
    public HttpClient Http { get; }

    /// <summary>
    /// A front door forwarding to <paramref name="backend"/> with the backend's own key, and the hosted names of
    /// <paramref name="store"/>'s registry (none: an empty store) to <paramref name="hosted"/>.
    /// </summary>
    public static async Task<FrontDoorHost> StartAsync(Uri backend, string backendKey = TestServer.Key, IArtifactStore? store = null,
        HostedUpstreams? hosted = null)
    {
        var emptyStore = store is null ? new Core.Tests.TempDir() : null;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        // As the Functions app's Program.cs registers them.
        ServingForwarder.AddTo(builder.Services, new FrontDoorOptions(backend, Key, backendKey)
        {
            Hosted = hosted ?? new HostedUpstreams(), RegistryPoll = TimeSpan.FromMilliseconds(200),
        }, store ?? new LocalFolderStore(emptyStore!.Path));
        builder.Services.AddSingleton<ServingApi>();
        var app = builder.Build();
        // The Functions app's host.json comes beside the tests as it goes beside the app.
        string prefix = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "host.json")))!["extensions"]!["http"]!["routePrefix"]!
            .GetValue<string>();
        foreach (var function in typeof(ServingApi).GetMethods().Where(m => m.GetCustomAttribute<FunctionAttribute>() is not null))
        {
            var trigger = function.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).Single(t => t is not null)!;
            RequestDelegate invoke = async http =>
            {
                var api = http.RequestServices.GetRequiredService<ServingApi>();
                var result = await (Task<IActionResult>)function.Invoke(api, [http.Request])!;
                await result.ExecuteResultAsync(new ActionContext { HttpContext = http });
            };
            app.MapMethods($"/{prefix}/{trigger.Route}", trigger.Methods!.Select(m => m.ToUpperInvariant()), invoke);
        }
        await app.StartAsync();
        await app.Services.GetRequiredService<HostedRoutes>().WaitUntilLoadedAsync(CancellationToken.None);
        return new FrontDoorHost(app, new Uri(app.Urls.First()), emptyStore);
    }

    /// <summary>A loopback URL nothing listens on: a backend that is down.</summary>
    public static Uri NothingListening()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        int port = ((IPEndPoint)socket.LocalEndpoint).Port;
        socket.Stop();
        return new Uri($"http://127.0.0.1:{port}");
    }

    public HttpClient Client(HttpMessageHandler? handler = null, string? bearer = Key)
    {
        var http = new HttpClient(handler ?? new SocketsHttpHandler()) { BaseAddress = Address, Timeout = TimeSpan.FromMinutes(5) };
        if (bearer is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return http;
    }

    /// <summary>The official client on the front door's base URL, with no retries (a retried failure would hide it).</summary>
    public OpenAIClient OpenAI(string key = Key) => new(new System.ClientModel.ApiKeyCredential(key),
        new OpenAIClientOptions { Endpoint = new Uri(Address, "/api/v1"), RetryPolicy = new ClientRetryPolicy(maxRetries: 0) });

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
        emptyStore?.Dispose();
    }
}
