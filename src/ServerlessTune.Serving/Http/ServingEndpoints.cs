using ServerlessTune.Core.Modeling;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ServerlessTune.Core.Feedback;
using ServerlessTune.Core.Storage;
using ServerlessTune.Serving.Hosted;
using ServerlessTune.Serving.Logging;
using ServerlessTune.Serving.Models;
using ServerlessTune.Serving.Protocol;

namespace ServerlessTune.Serving.Http;

/// <summary>
/// The HTTP surface, kept thin: the key check, the body bound, OpenAI's error shape for every refusal, and the
/// routes. The work is in the endpoints' classes and the engine behind them.
/// </summary>
public static class ServingEndpoints
{
    public static void Map(WebApplication app, ModelCatalog catalog, HostedRoutes hosted, HostedForwarder forwarder, ServingOptions options,
        ConversationLog? conversations, ILogger log)
    {
        var metrics = app.Services.GetRequiredService<ServingMetrics>();
        var key = new ApiKeyCheck(options.ApiKey ?? throw new ArgumentException("the options carry no API key; validate them first"));
        var limits = options.Limits;
        var chat = new ChatEndpoint(catalog, limits, conversations, metrics);
        var completions = new CompletionEndpoint(catalog, limits, conversations, metrics);
        var feedback = new FeedbackEndpoint(catalog, hosted, limits, conversations, metrics);

        app.Use(async (http, next) =>
        {
            try
            {
                // The playground page holds no secret (its user types the key into it); everything it calls needs the key.
                if (!Playground.IsPage(http.Request) && !key.Allows(http.Request))
                    throw ApiKeyCheck.Refusal();
                await next(http);
            }
            catch (ProtocolException ex) when (!http.Response.HasStarted)
            {
                await WriteErrorAsync(http, ex);
            }
            catch (BadHttpRequestException ex) when (!http.Response.HasStarted)
            {
                await WriteErrorAsync(http, ex.StatusCode == 413
                    ? ProtocolException.BodyTooLarge((int)(http.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize ?? limits.MaxBodyBytes))
                    : new ProtocolException(ex.StatusCode, ex.Message));
            }
            catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
            {
                // The client went away; its sequences were cancelled with it.
            }
            catch (Exception ex) when (!http.Response.HasStarted)
            {
                log.LogError(ex, "{Path} failed", http.Request.Path);
                await WriteErrorAsync(http, new ProtocolException(500, "the server failed to complete the request", type: "server_error"));
            }
        });

        // A model a hosted service serves is answered by that service; every other name by our engine.
        app.MapPost("/v1/chat/completions", async http =>
        {
            var body = await ReadBodyAsync(http);
            if (await HostedForwarder.RouteAsync(hosted, body, http.RequestAborted) is { } route) await forwarder.ForwardAsync(http, route, HostedForwarder.Chat, body);
            else await chat.HandleAsync(http, body);
        });
        app.MapPost("/v1/completions", async http =>
        {
            var body = await ReadBodyAsync(http);
            if (await HostedForwarder.RouteAsync(hosted, body, http.RequestAborted) is { } route) await forwarder.ForwardAsync(http, route, HostedForwarder.Completions, body);
            else await completions.HandleAsync(http, body);
        });
        app.MapPost("/v1/feedback", async http =>
        {
            feedback.LimitBody(http);
            await feedback.HandleAsync(http, await ReadBodyAsync(http));
        });
        app.MapGet("/v1/models", () => Results.Json(new ModelList(catalog.Names
            .Select(n => new ModelCard(n.Name, n.Model.Created.ToUnixTimeSeconds(), n.Model.Project, n.Model.Format.Name()))
            .Concat(catalog.OnDemand.Select(n => new ModelCard(n.Name, n.Created.ToUnixTimeSeconds(), n.Project)))
            .Concat(hosted.Names.Select(n => new ModelCard(n.Name, n.Route.Created.ToUnixTimeSeconds(), n.Route.Project)))
            .OrderBy(m => m.Id, StringComparer.Ordinal).ToArray()), ProtocolJson.Options));
        app.MapGet("/health", () =>
        {
            var (ready, status, problems) = catalog.Health();
            // A server whose every name is hosted is ready once it read the registry: nothing of its own has to load.
            if (!ready && status == ModelCatalog.NothingToServe && hosted.Loaded && hosted.Names.Count > 0) (ready, status) = (true, "ok");
            var body = new
            {
                status,
                models = catalog.Names.Select(n => new { name = n.Name, version = n.Model.Version, source = n.Model.Source, format = (string?)n.Model.Format.Name(), running = n.Model.Engine.InFlight })
                    .Concat(hosted.Names.Select(n => new { name = n.Name, version = n.Route.Version,
                        source = $"{n.Route.Target.Provider}:{n.Route.Target.Deployment ?? n.Route.Target.Model}", format = (string?)null, running = 0 })),
                problems,
            };
            return Results.Json(body, ProtocolJson.Options, statusCode: ready ? 200 : 503);
        });
        app.MapGet("/api/projects/{project}/metrics", async (HttpContext http, string project) =>
        {
            if (conversations is null)
                throw new ProtocolException(404, "this server keeps no conversation log (serve with a store)", code: "not_found");
            if (!ArtifactPath.IsValidName(project)) throw ProtocolException.BadValue("project", $"'{project}' is not a project name");
            DateOnly? since = null;
            if (http.Request.Query["since"].FirstOrDefault() is { Length: > 0 } text)
                since = DateOnly.TryParseExact(text, "yyyy-MM-dd", out var day) ? day : throw ProtocolException.BadValue("since", $"'{text}' is not a yyyy-mm-dd date");
            return Results.Json(await conversations.MetricsAsync(project, since, http.RequestAborted), LogJson.Options);
        });
        app.MapGet("/", Playground.Page);
        app.MapFallback(http => throw new ProtocolException(404, $"no route {http.Request.Method} {http.Request.Path}", code: "not_found"));
    }

    static async Task<JsonElement> ReadBodyAsync(HttpContext http)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(http.Request.Body, new JsonDocumentOptions { MaxDepth = 32 }, http.RequestAborted);
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new ProtocolException(400, $"the body is not valid JSON: {ex.Message}", code: "invalid_json");
        }
    }

    /// <summary>A refusal in OpenAI's error shape (the Functions front door answers its own refusals with it too).</summary>
    public static async Task WriteErrorAsync(HttpContext http, ProtocolException ex)
    {
        http.Response.StatusCode = ex.Status;
        if (ex.RetryAfterSeconds is { } seconds) http.Response.Headers.RetryAfter = seconds.ToString();
        await http.Response.WriteAsJsonAsync(ex.Body, ProtocolJson.Options);
    }
}
