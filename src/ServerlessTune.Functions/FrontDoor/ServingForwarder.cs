using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ServerlessTune.Core.Storage;
using ServerlessTune.Serving.Hosted;
using ServerlessTune.Serving.Http;
using ServerlessTune.Serving.Logging;
using ServerlessTune.Serving.Protocol;
using Yarp.ReverseProxy.Forwarder;

namespace ServerlessTune.Functions.FrontDoor;

/// <summary>
/// The public serving endpoint's work: the serving core's key check and body bound, then YARP's forwarder: a request
/// whose model a hosted service serves goes straight to that service through the serving core's
/// <see cref="HostedForwarder"/> (as `stune serve` sends it), everything else to the model backend. Responses stream back
/// as they arrive (status, headers, each SSE event) and a client that goes away cancels the upstream request. Refusals
/// and an unreachable upstream answer in OpenAI's error shape.
/// </summary>
public sealed class ServingForwarder(IHttpForwarder forwarder, FrontDoorOptions options, HostedRoutes hosted, HostedForwarder hostedForwarder,
    ILogger<ServingForwarder> log) : IDisposable
{
    readonly ApiKeyCheck key = new(options.ApiKey);
    readonly int maxBodyBytes = new ServingLimits().MaxBodyBytes;
    readonly string destination = options.BackendUrl.ToString();
    readonly HttpMessageInvoker backend = Forwarding.CreateClient();

    /// <summary>
    /// Registers the forwarder and what it needs, as the Functions app and the tests' host both do: the registry's hosted
    /// names (read from <paramref name="store"/>, where Deploy writes them) and the conversation log their answers go to.
    /// </summary>
    public static IServiceCollection AddTo(IServiceCollection services, FrontDoorOptions options, IArtifactStore store) =>
        services.AddHttpForwarder().AddMetrics().AddSingleton<ServingMetrics>().AddSingleton(options)
            .AddSingleton(sp =>
            {
                var routes = HostedRoutes.ForRegistry(store, null, options.RegistryPoll, sp.GetRequiredService<ILogger<HostedRoutes>>());
                routes.Start();
                return routes;
            })
            .AddSingleton(sp => new ConversationLog(store, redactPii: true, TimeSpan.FromSeconds(1), sp.GetRequiredService<ILogger<ConversationLog>>()))
            .AddSingleton(sp => new HostedForwarder(sp.GetRequiredService<IHttpForwarder>(), options.Hosted, new ServingLimits(),
                sp.GetRequiredService<ConversationLog>(), sp.GetRequiredService<ServingMetrics>(), sp.GetRequiredService<ILogger<HostedForwarder>>()))
            .AddSingleton<ServingForwarder>();

    /// <summary>Answers <paramref name="http"/> with what the backend answers at <paramref name="backendPath"/>, or the hosted model's service.</summary>
    public async Task ForwardAsync(HttpContext http, string backendPath)
    {
        try
        {
            if (!key.Allows(http.Request)) throw ApiKeyCheck.Refusal();
            var body = await BufferBodyAsync(http.Request, http.RequestAborted);
            if (HostedEndpoint(backendPath) is { } endpoint && body is { } json &&
                await HostedForwarder.RouteAsync(hosted, json, http.RequestAborted) is { } route)
            {
                await hostedForwarder.ForwardAsync(http, route, endpoint, json);
                return;
            }
        }
        catch (ProtocolException ex) when (!http.Response.HasStarted)
        {
            await ServingEndpoints.WriteErrorAsync(http, ex);
            return;
        }
        catch (BadHttpRequestException ex)
        {
            // A body the server could not read (a broken chunked encoding, a client that stalled).
            await ServingEndpoints.WriteErrorAsync(http, new ProtocolException(ex.StatusCode, ex.Message));
            return;
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            return; // the client left while sending its body; nothing was forwarded
        }
        var url = RequestUtilities.MakeDestinationAddress(destination, backendPath, http.Request.QueryString);
        await Forwarding.SendAsync(forwarder, http, destination, backend, new BackendTransformer(url, options.BackendApiKey), log,
            "the model backend", "backend_unavailable");
    }

    static string? HostedEndpoint(string backendPath) => backendPath switch
    {
        "/v1/chat/completions" => HostedForwarder.Chat,
        "/v1/completions" => HostedForwarder.Completions,
        _ => null,
    };

    /// <summary>
    /// Reads the whole body, at most the serving core's bound, before anything is sent: an oversize body (declared or
    /// chunked) is refused here, and the upstream gets a complete body with its length or nothing. Returns the body as
    /// JSON when it is JSON (for its model name); anything else goes to the backend, which says what is wrong with it.
    /// </summary>
    async Task<JsonElement?> BufferBodyAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > maxBodyBytes) throw ProtocolException.BodyTooLarge(maxBodyBytes);
        var body = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (body.Length + read > maxBodyBytes) throw ProtocolException.BodyTooLarge(maxBodyBytes);
            body.Write(chunk, 0, read);
        }
        body.Position = 0;
        request.Body = body;
        if (request.ContentLength is not null || body.Length > 0) request.ContentLength = body.Length;
        request.Headers.TransferEncoding = default;
        if (body.Length == 0) return null;
        try
        {
            using var document = JsonDocument.Parse(body.GetBuffer().AsMemory(0, (int)body.Length), new JsonDocumentOptions { MaxDepth = 32 });
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Dispose() => backend.Dispose();

    /// <summary>The backend's address and key on an otherwise unchanged request.</summary>
    sealed class BackendTransformer(Uri url, string backendKey) : HttpTransformer
    {
        public override async ValueTask TransformRequestAsync(HttpContext http, HttpRequestMessage proxyRequest, string destinationPrefix,
            CancellationToken ct)
        {
            await base.TransformRequestAsync(http, proxyRequest, destinationPrefix, ct);
            proxyRequest.RequestUri = url;
            proxyRequest.Headers.Remove("api-key");
            proxyRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", backendKey);
            // Container Apps ingress routes by host name: the backend's own, not the Function app's.
            proxyRequest.Headers.Host = null;
        }
    }
}
