using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using ServerlessTune.Functions.FrontDoor;

namespace ServerlessTune.Functions;

/// <summary>
/// The public OpenAI-compatible endpoint (/api/v1/...): each function forwards to the same path on the model backend,
/// the serving Container App. Anonymous to the Functions host because OpenAI clients cannot send a function key:
/// <see cref="ServingForwarder"/> checks the serving key (Authorization: Bearer or api-key) as the backend does.
/// The ASP.NET Core integration hands over the real HttpContext, so streamed responses are written as they arrive.
/// </summary>
public sealed class ServingApi(ServingForwarder forwarder)
{
    [Function("ChatCompletions")]
    public Task<IActionResult> ChatCompletions(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/chat/completions")] HttpRequest request) =>
        ForwardAsync(request, "/v1/chat/completions");

    [Function("Completions")]
    public Task<IActionResult> Completions([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/completions")] HttpRequest request) =>
        ForwardAsync(request, "/v1/completions");

    [Function("Models")]
    public Task<IActionResult> Models([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/models")] HttpRequest request) =>
        ForwardAsync(request, "/v1/models");

    [Function("Feedback")]
    public Task<IActionResult> Feedback([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/feedback")] HttpRequest request) =>
        ForwardAsync(request, "/v1/feedback");

    async Task<IActionResult> ForwardAsync(HttpRequest request, string backendPath)
    {
        await forwarder.ForwardAsync(request.HttpContext, backendPath);
        // The forwarder wrote the whole response; nothing is left for the host to write.
        return new EmptyResult();
    }
}
