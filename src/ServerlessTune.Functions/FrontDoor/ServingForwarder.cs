using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ServerlessTune.Serving.Http;
using ServerlessTune.Serving.Protocol;
using Yarp.ReverseProxy.Forwarder;

namespace ServerlessTune.Functions.FrontDoor;

/// <summary>
/// The public serving endpoint's work: the serving core's key check and body bound, then YARP's forwarder to the model
/// backend, which streams the response back as it arrives (status, headers, each SSE event) and cancels the backend
/// request when the client goes away. Refusals and an unreachable backend answer in OpenAI's error shape.
/// </summary>
public sealed class ServingForwarder(IHttpForwarder forwarder, FrontDoorOptions options, ILogger<ServingForwarder> log) : IDisposable
{
    // Azure's front end drops a request that sent nothing for 230 s: a backend idle that long is not coming back.
    static readonly ForwarderRequestConfig Config = new() { ActivityTimeout = TimeSpan.FromSeconds(230) };

    readonly ApiKeyCheck key = new(options.ApiKey);
    readonly int maxBodyBytes = new ServingLimits().MaxBodyBytes;
    readonly string destination = options.BackendUrl.ToString();
    readonly HttpMessageInvoker backend = new(new SocketsHttpHandler
    {
        // The settings YARP documents for a forwarding client: pass everything through as it is.
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(15),
        EnableMultipleHttp2Connections = true,
        ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
    });

    /// <summary>Registers the forwarder and what it needs, as the Functions app and the tests' host both do.</summary>
    public static IServiceCollection AddTo(IServiceCollection services, FrontDoorOptions options) =>
        services.AddHttpForwarder().AddSingleton(options).AddSingleton<ServingForwarder>();

    /// <summary>Answers <paramref name="http"/> with what the backend answers at <paramref name="backendPath"/>.</summary>
    public async Task ForwardAsync(HttpContext http, string backendPath)
    {
        try
        {
            if (!key.Allows(http.Request)) throw ApiKeyCheck.Refusal();
            await BufferBodyAsync(http.Request, http.RequestAborted);
        }
        catch (ProtocolException ex)
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
        var error = await forwarder.SendAsync(http, destination, backend, Config, new BackendTransformer(backendPath, options.BackendApiKey));
        // A client that left cancelled the backend request with it; nobody is listening for an error.
        if (error == ForwarderError.None || http.RequestAborted.IsCancellationRequested) return;
        log.LogWarning(http.Features.Get<IForwarderErrorFeature>()?.Exception, "forwarding {Path} to the model backend failed: {Error}",
            backendPath, error);
        // Mid-stream the status is sent already; cutting the stream short is all that is left.
        if (http.Response.HasStarted) return;
        await ServingEndpoints.WriteErrorAsync(http, new ProtocolException(error == ForwarderError.RequestTimedOut ? 504 : 502,
            $"the model backend did not answer ({error}); try again later", type: "server_error", code: "backend_unavailable"));
    }

    /// <summary>
    /// Reads the whole body, at most the serving core's bound, before anything is sent: an oversize body (declared or
    /// chunked) is refused here, and the backend gets a complete body with its length or nothing.
    /// </summary>
    async Task BufferBodyAsync(HttpRequest request, CancellationToken ct)
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
    }

    public void Dispose() => backend.Dispose();

    /// <summary>The backend's path and key on an otherwise unchanged request.</summary>
    sealed class BackendTransformer(string path, string backendKey) : HttpTransformer
    {
        public override async ValueTask TransformRequestAsync(HttpContext http, HttpRequestMessage proxyRequest, string destinationPrefix,
            CancellationToken ct)
        {
            await base.TransformRequestAsync(http, proxyRequest, destinationPrefix, ct);
            proxyRequest.RequestUri = RequestUtilities.MakeDestinationAddress(destinationPrefix, path, http.Request.QueryString);
            proxyRequest.Headers.Remove("api-key");
            proxyRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", backendKey);
            // Container Apps ingress routes by host name: the backend's own, not the Function app's.
            proxyRequest.Headers.Host = null;
        }
    }
}
