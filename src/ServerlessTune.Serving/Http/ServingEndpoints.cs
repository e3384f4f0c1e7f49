using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ServerlessTune.Serving.Models;
using ServerlessTune.Serving.Protocol;

namespace ServerlessTune.Serving.Http;

/// <summary>
/// The HTTP surface, kept thin: the key check, the body bound, OpenAI's error shape for every refusal, and the
/// routes. The work is in the endpoints' classes and the engine behind them.
/// </summary>
public static class ServingEndpoints
{
    public static void Map(WebApplication app, ModelCatalog catalog, ServingOptions options, ILogger log)
    {
        var key = new ApiKeyCheck(options.ApiKey ?? throw new ArgumentException("the options carry no API key; validate them first"));
        var limits = options.Limits;
        var chat = new ChatEndpoint(catalog, limits);
        var completions = new CompletionEndpoint(catalog, limits);

        app.Use(async (http, next) =>
        {
            try
            {
                if (!key.Allows(http.Request))
                    throw ApiKeyCheck.Refusal();
                await next(http);
            }
            catch (ProtocolException ex) when (!http.Response.HasStarted)
            {
                await WriteErrorAsync(http, ex);
            }
            catch (BadHttpRequestException ex) when (!http.Response.HasStarted)
            {
                await WriteErrorAsync(http, ex.StatusCode == 413 ? ProtocolException.BodyTooLarge(limits.MaxBodyBytes)
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

        app.MapPost("/v1/chat/completions", async http => await chat.HandleAsync(http, await ReadBodyAsync(http)));
        app.MapPost("/v1/completions", async http => await completions.HandleAsync(http, await ReadBodyAsync(http)));
        app.MapGet("/v1/models", () => Results.Json(new ModelList(catalog.Names
            .Select(n => new ModelCard(n.Name, n.Model.Created.ToUnixTimeSeconds(), n.Model.Project)).ToArray()), ProtocolJson.Options));
        app.MapGet("/health", () =>
        {
            var (ready, status, problems) = catalog.Health();
            var body = new
            {
                status,
                models = catalog.Names.Select(n => new { name = n.Name, version = n.Model.Version, source = n.Model.Source, running = n.Model.Engine.InFlight }),
                problems,
            };
            return Results.Json(body, ProtocolJson.Options, statusCode: ready ? 200 : 503);
        });
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
