using System.Net;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.DurableTask.Client;
using ServerlessTune.Core;
using ServerlessTune.Core.Storage;
using ServerlessTune.Workflow;
using ServerlessTune.Workflow.Api;
using ServerlessTune.Workflow.Jobs;

namespace ServerlessTune.Functions;

/// <summary>
/// The HTTP API over runs: start, status, list, terminate, approve. Every function needs a function key;
/// request reading and validation live in <see cref="RunRequests"/>, and every refusal is a JSON {"error"}.
/// </summary>
public sealed class RunsApi(IArtifactStore store, RunJobs jobs)
{
    [Function("StartRun")]
    public Task<HttpResponseData> Start([HttpTrigger(AuthorizationLevel.Function, "post", Route = "runs")] HttpRequestData request,
        [DurableClient] DurableTaskClient client, CancellationToken ct) => Handle(request, async () =>
    {
        var body = await RunRequests.ReadStartAsync(request.Body, ContentLength(request), ct);
        string runId = await new RunStarter(client, store).StartAsync(body.Project, body.Options, ct: ct);
        return await client.CreateCheckStatusResponseAsync(request, runId, ct);
    });

    [Function("GetRun")]
    public Task<HttpResponseData> Get([HttpTrigger(AuthorizationLevel.Function, "get", Route = "runs/{runId}")] HttpRequestData request,
        string runId, [DurableClient] DurableTaskClient client, CancellationToken ct) => Handle(request, async () =>
    {
        var view = await new RunQueries(client).GetAsync(runId, ct) ?? throw NotFound(runId);
        return await Json(request, HttpStatusCode.OK, new { run = view, management = client.CreateHttpManagementPayload(view.RunId, request) });
    });

    [Function("ListRuns")]
    public Task<HttpResponseData> List([HttpTrigger(AuthorizationLevel.Function, "get", Route = "runs")] HttpRequestData request,
        [DurableClient] DurableTaskClient client, CancellationToken ct) => Handle(request, async () =>
    {
        string? project = System.Web.HttpUtility.ParseQueryString(request.Url.Query)["project"];
        return await Json(request, HttpStatusCode.OK, new { runs = await new RunQueries(client).ListAsync(project, ct) });
    });

    [Function("TerminateRun")]
    public Task<HttpResponseData> Terminate([HttpTrigger(AuthorizationLevel.Function, "post", Route = "runs/{runId}/terminate")] HttpRequestData request,
        string runId, [DurableClient] DurableTaskClient client, CancellationToken ct) => Handle(request, async () =>
    {
        string reason = await RunRequests.ReadTerminateReasonAsync(request.Body, ContentLength(request), ct);
        var view = await new RunQueries(client).GetAsync(runId, ct) ?? throw NotFound(runId);
        await client.TerminateInstanceAsync(view.RunId, reason, ct);
        // A terminated orchestrator never runs again: its jobs (a container job, a hosted fine-tuning job) are stopped here.
        var stopped = await jobs.StopAllAsync(view.RunId, ct);
        return await Json(request, HttpStatusCode.Accepted, new { runId = view.RunId, terminating = true, stoppedJobs = stopped.Select(j => j.ExecutionId) });
    });

    [Function("ApproveRun")]
    public Task<HttpResponseData> Approve([HttpTrigger(AuthorizationLevel.Function, "post", Route = "runs/{runId}/approve")] HttpRequestData request,
        string runId, [DurableClient] DurableTaskClient client, CancellationToken ct) => Handle(request, async () =>
    {
        var decision = await RunRequests.ReadApprovalAsync(request.Body, ContentLength(request), ct);
        string id = RunRequests.RunId(runId);
        if (!await new RunQueries(client).IsAwaitingApprovalAsync(id, ct))
            throw new ApiError(HttpStatusCode.Conflict, $"run {id} is not waiting for approval");
        await client.RaiseEventAsync(id, PipelineNames.ApprovalEvent, decision, ct);
        return await Json(request, HttpStatusCode.Accepted, new { runId = id, decision });
    });

    static async Task<HttpResponseData> Handle(HttpRequestData request, Func<Task<HttpResponseData>> handle)
    {
        try { return await handle(); }
        catch (ApiError e) { return await Json(request, e.Status, e.Body); }
        catch (UserInputException e) { return await Json(request, HttpStatusCode.BadRequest, new { error = e.Message }); }
    }

    static async Task<HttpResponseData> Json(HttpRequestData request, HttpStatusCode status, object body)
    {
        // The status is set before the body: under the ASP.NET Core integration the response has started once it is written.
        var response = request.CreateResponse(status);
        await response.WriteAsJsonAsync(body);
        return response;
    }

    static long? ContentLength(HttpRequestData request) =>
        request.Headers.TryGetValues("Content-Length", out var values) && long.TryParse(values.FirstOrDefault(), out long length) ? length : null;

    static ApiError NotFound(string runId) => new(HttpStatusCode.NotFound, $"run {runId} not found");
}
