using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ServerlessTune.Core.Feedback;
using ServerlessTune.Serving.Http;
using ServerlessTune.Serving.Logging;
using ServerlessTune.Serving.Protocol;
using Yarp.ReverseProxy.Forwarder;

namespace ServerlessTune.Serving.Hosted;

/// <summary>
/// Sends a request for a hosted model to the service that serves it, through YARP: the body as the client sent it with
/// <c>model</c> set to the service's name for it, the service's credential instead of the client's key (which we checked
/// and pass on to no one), and the response (status, body, each SSE event) back unchanged as it arrives, errors included.
/// The answer is logged like one of ours, under the service's completion id, so it can be rated. `stune serve` and the
/// Functions front door both forward through this one class.
/// </summary>
public sealed class HostedForwarder(IHttpForwarder forwarder, HostedUpstreams upstreams, ServingLimits limits, ConversationLog? conversations,
    ServingMetrics metrics, ILogger log) : IDisposable
{
    public const string Chat = "chat/completions";
    public const string Completions = "completions";

    readonly HttpMessageInvoker client = Forwarding.CreateClient();

    /// <summary>
    /// The hosted route a request body's <c>model</c> names, or null (an open model, or no such name). A request that
    /// arrives before the registry was first read waits for that read, so it is not sent to the wrong place.
    /// </summary>
    public static async ValueTask<HostedRoute?> RouteAsync(HostedRoutes routes, JsonElement body, CancellationToken ct)
    {
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String)
            return null;
        if (!routes.Loaded) await routes.WaitUntilLoadedAsync(ct);
        return routes.Find(model.GetString()!);
    }

    /// <param name="endpoint"><see cref="Chat"/> or <see cref="Completions"/>.</param>
    public async Task ForwardAsync(HttpContext http, HostedRoute route, string endpoint, JsonElement body)
    {
        var upstream = await upstreams.ForAsync(route.Target, endpoint, http.RequestAborted);
        var request = JsonNode.Parse(body.GetRawText())!.AsObject();
        request["model"] = upstream.Model;
        var bytes = JsonSerializer.SerializeToUtf8Bytes(request);
        http.Request.Body = new MemoryStream(bytes);
        http.Request.ContentLength = bytes.Length;
        http.Request.ContentType = "application/json";
        http.Request.Headers.TransferEncoding = default;

        var logged = HostedAnswer.Start(metrics, conversations, endpoint == Chat ? ConversationRecord.Chat : ConversationRecord.Completion, body, limits);
        var capture = new ResponseCapture(http.Response.Body, limits.MaxBodyBytes * 4L, logged.Trace.TokenArrived);
        http.Response.Body = capture;
        try
        {
            await Forwarding.SendAsync(forwarder, http, upstream.Url.AbsoluteUri, client, new UpstreamTransformer(upstream), log,
                $"{route.Target.Provider} (the service serving {route.Project}@{route.Version})", "upstream_unavailable");
        }
        finally
        {
            http.Response.Body = capture.Inner;
        }
        logged.Finish(route, http.Response.StatusCode, http.Response.ContentType, capture, http.RequestAborted.IsCancellationRequested);
    }

    public void Dispose() => client.Dispose();

    /// <summary>
    /// The upstream URL and credential on the client's request. Only the body and the headers that describe it travel: a
    /// client's own headers (OpenAI-Organization, OpenAI-Project, cookies) could otherwise steer which account pays.
    /// </summary>
    sealed class UpstreamTransformer(HostedUpstreams.Upstream upstream) : HttpTransformer
    {
        static readonly string[] Kept = ["Accept", "User-Agent"];
        // Which of the service's accounts answered is ours to know, not the client's.
        static readonly string[] Withheld = ["openai-organization", "openai-project"];

        public override async ValueTask TransformRequestAsync(HttpContext http, HttpRequestMessage proxyRequest, string destinationPrefix,
            CancellationToken ct)
        {
            await base.TransformRequestAsync(http, proxyRequest, destinationPrefix, ct);
            foreach (var name in proxyRequest.Headers.Select(h => h.Key).Where(n => !Kept.Contains(n, StringComparer.OrdinalIgnoreCase)).ToArray())
                proxyRequest.Headers.Remove(name);
            proxyRequest.RequestUri = upstream.Url;
            proxyRequest.Headers.Host = null;
            upstream.Authenticate(proxyRequest);
        }

        public override async ValueTask<bool> TransformResponseAsync(HttpContext http, HttpResponseMessage? proxyResponse, CancellationToken ct)
        {
            bool copy = await base.TransformResponseAsync(http, proxyResponse, ct);
            foreach (var name in Withheld) http.Response.Headers.Remove(name);
            return copy;
        }
    }
}
