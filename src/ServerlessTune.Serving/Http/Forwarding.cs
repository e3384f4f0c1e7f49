using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ServerlessTune.Serving.Protocol;
using Yarp.ReverseProxy.Forwarder;

namespace ServerlessTune.Serving.Http;

/// <summary>
/// YARP's forwarder as every proxy hop here uses it (the Functions front door to the serving backend, and the serving
/// core or the front door to a hosted model's service): the client YARP documents for forwarding, the response streamed
/// back as it arrives (status, headers, each SSE event), the upstream request cancelled when the client leaves, and an
/// upstream that cannot be reached answered in OpenAI's error shape.
/// </summary>
public static class Forwarding
{
    // Azure's front end drops a request that sent nothing for 230 s: an upstream idle that long is not coming back.
    static readonly ForwarderRequestConfig Config = new() { ActivityTimeout = TimeSpan.FromSeconds(230) };

    /// <summary>The settings YARP documents for a forwarding client: pass everything through as it is.</summary>
    public static HttpMessageInvoker CreateClient() => new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(15),
        EnableMultipleHttp2Connections = true,
        ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
    });

    /// <summary>
    /// Answers <paramref name="http"/> with what <paramref name="destination"/> answers; when it cannot be reached, a 502
    /// (504 after the idle timeout) with <paramref name="code"/>, unless the response has started or the client left.
    /// </summary>
    /// <param name="what">The upstream in words, for the log and the error message.</param>
    public static async Task SendAsync(IHttpForwarder forwarder, HttpContext http, string destination, HttpMessageInvoker client,
        HttpTransformer transformer, ILogger log, string what, string code)
    {
        var error = await forwarder.SendAsync(http, destination, client, Config, transformer);
        // A client that left cancelled the upstream request with it; nobody is listening for an error.
        if (error == ForwarderError.None || http.RequestAborted.IsCancellationRequested) return;
        // The exception names the destination at most, never a header: the upstream's key stays out of the log.
        log.LogWarning("forwarding {Path} to {What} failed: {Error} ({Message})", http.Request.Path, what, error,
            http.Features.Get<IForwarderErrorFeature>()?.Exception?.Message);
        // Mid-stream the status is sent already; cutting the stream short is all that is left.
        if (http.Response.HasStarted) return;
        await ServingEndpoints.WriteErrorAsync(http, new ProtocolException(error == ForwarderError.RequestTimedOut ? 504 : 502,
            $"{what} did not answer ({error}); try again later", type: "server_error", code: code));
    }
}
