using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using ServerlessTune.Core.Storage;
using ServerlessTune.Workflow.Api;
using ServerlessTune.Workflow.Jobs;
using ServerlessTune.Workflow.Runner;
using ServerlessTune.Workflow.Tests.Orchestration;

namespace ServerlessTune.Workflow.Tests.Functions;

/// <summary>
/// The runs API's function class over HTTP (<see cref="RunsApiHost"/>) in front of the real Durable Task engine:
/// every success and refusal as a client receives it (status, content type, one-line {"error"} body naming the key).
/// </summary>
public sealed class RunsApiTests : IAsyncLifetime
{
    // Bounds only: a regression fails the test instead of hanging it.
    static readonly TimeSpan Bound = TimeSpan.FromMinutes(3);
    const string Base = "\"base_model\": \"models/base\", \"prepare\": { \"validation_fraction\": 0.3 }";
    readonly PipelineHarness _harness = new();
    LocalFolderStore _store = null!;
    LocalProcessJobLauncher _launcher = null!;
    EmbeddedDurableHost _engine = null!;
    RunsApiHost _api = null!;

    public async Task InitializeAsync()
    {
        _store = new LocalFolderStore(Path.Combine(_harness.Scratch, "store"));
        await PipelineHarness.AddDatasetAsync(_store);
        // The real evaluation job, of a candidate that is a copy of the base: what it measures is not the subject here.
        _launcher = new LocalProcessJobLauncher(
            ScriptTrainer.WithRealEvaluation(_harness.Scratch, ScriptTrainer.CopiesTheBase + ScriptTrainer.WaitsForRelease), _store.Location);
        _engine = await EmbeddedDurableHost.StartAsync(DurableBackend.InMemory(), registry => PipelineTasks.Register(registry),
            services => services.AddPipelineServices(_store, _launcher));
        _api = await RunsApiHost.StartAsync(_engine.Client, _store, _launcher);
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        await _engine.DisposeAsync();
        _launcher.Dispose();
        _harness.Dispose();
    }

    public static TheoryData<string, HttpStatusCode, string> BadStarts => new()
    {
        { "", HttpStatusCode.BadRequest, "body: empty, expected a JSON object" },
        { "{\"project\": ", HttpStatusCode.BadRequest, "body:1: invalid JSON" },
        { "[1]", HttpStatusCode.BadRequest, "body: expected a JSON object" },
        { "{}", HttpStatusCode.BadRequest, "body: project: missing" },
        { "{\"project\": \"acme\", \"owner\": \"x\"}", HttpStatusCode.BadRequest, "body: owner: unknown key (expected one of: project, config)" },
        { "{\"project\": \"../etc\"}", HttpStatusCode.BadRequest, "invalid project '../etc': use 1-63 letters, digits, '-', '_' or '.'" },
        { "{\"project\": \"acme\", \"config\": {\"train\": {\"batch_size\": 0}}}", HttpStatusCode.BadRequest, "train.batch_size" },
        { "{\"project\": \"acme\", \"config\": {\"train\": {\"learning_rate\": -1}}}", HttpStatusCode.BadRequest, "train.learning_rate" },
        { "{\"project\": \"acme\", \"config\": {\"project\": \"other\"}}", HttpStatusCode.BadRequest,
            "body: config: project: 'other' differs from the body's project 'acme'" },
        { $"{{\"project\": \"acme\", \"config\": {{ {Base}, \"eval\": {{\"suite\": \"eval/missing.jsonl\"}} }}}}", HttpStatusCode.BadRequest,
            "request config: eval.suite: eval/missing.jsonl: not found in the dataset folder" },
        { $"{{\"project\": \"acme\", \"config\": {{\"notes\": \"{new string('x', RunRequests.MaxBodyBytes)}\"}}}}", HttpStatusCode.RequestEntityTooLarge,
            $"body: larger than {RunRequests.MaxBodyBytes} bytes" },
    };

    [Theory]
    [MemberData(nameof(BadStarts))]
    public async Task A_bad_start_request_is_refused_with_one_line_naming_the_key_and_starts_nothing(string body, HttpStatusCode status, string error)
    {
        using var response = await _api.Http.PostAsync("/api/runs", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Contains(error, await ErrorAsync(response, status));
        Assert.Empty(await new RunQueries(_engine.Client).ListAsync("acme"));
        Assert.Null(await new ActiveRuns(_store).GetAsync("acme"));
    }

    [Fact]
    public async Task A_body_over_the_limit_is_refused_by_what_arrives_when_no_length_is_sent()
    {
        var chunked = new StreamContent(new MemoryStream(new byte[RunRequests.MaxBodyBytes + 1]));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/runs") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        using var response = await _api.Http.SendAsync(request);

        Assert.Equal($"body: larger than {RunRequests.MaxBodyBytes} bytes", await ErrorAsync(response, HttpStatusCode.RequestEntityTooLarge));
    }

    [Fact]
    public async Task A_started_run_is_202_with_its_status_links_and_holds_the_project_until_it_is_terminated()
    {
        using var started = await StartAsync();
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        using var links = JsonDocument.Parse(await started.Content.ReadAsStringAsync());
        string runId = links.RootElement.GetProperty("id").GetString()!;
        Assert.EndsWith($"/runtime/webhooks/durabletask/instances/{runId}", started.Headers.Location!.GetLeftPart(UriPartial.Path));
        Assert.StartsWith(started.Headers.Location.GetLeftPart(UriPartial.Path), links.RootElement.GetProperty("statusQueryGetUri").GetString());
        await WaitForStepAsync(runId, "Train");

        // One run at a time: the project is held until this run ends.
        using (var second = await StartAsync())
            Assert.StartsWith($"project acme: run {runId} is in progress (since ", await ErrorAsync(second, HttpStatusCode.Conflict));

        using (var got = await _api.Http.GetAsync($"/api/runs/{runId}"))
        {
            Assert.Equal(HttpStatusCode.OK, got.StatusCode);
            Assert.Equal("application/json; charset=utf-8", got.Content.Headers.ContentType!.ToString());
            using var view = JsonDocument.Parse(await got.Content.ReadAsStringAsync());
            Assert.Equal(runId, view.RootElement.GetProperty("run").GetProperty("runId").GetString());
            Assert.Equal("Running", view.RootElement.GetProperty("run").GetProperty("runtimeStatus").GetString());
            Assert.Contains(runId, view.RootElement.GetProperty("management").GetProperty("terminatePostUri").GetString());
        }
        using (var listed = await _api.Http.GetAsync("/api/runs?project=acme"))
        {
            Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
            using var runs = JsonDocument.Parse(await listed.Content.ReadAsStringAsync());
            Assert.Equal(runId, Assert.Single(runs.RootElement.GetProperty("runs").EnumerateArray()).GetProperty("runId").GetString());
        }
        using (var early = await _api.Http.PostAsync($"/api/runs/{runId}/approve", Json("""{"approved": true}""")))
            Assert.Equal($"run {runId} is not waiting for approval", await ErrorAsync(early, HttpStatusCode.Conflict));
        using (var badReason = await _api.Http.PostAsync($"/api/runs/{runId}/terminate", Json("""{"reason": 5}""")))
            Assert.Equal("body: reason: expected a string, got the number 5", await ErrorAsync(badReason, HttpStatusCode.BadRequest));

        using (var terminated = await _api.Http.PostAsync($"/api/runs/{runId}/terminate", Json("""{"reason": "wrong data"}""")))
        {
            Assert.Equal(HttpStatusCode.Accepted, terminated.StatusCode);
            using var body = JsonDocument.Parse(await terminated.Content.ReadAsStringAsync());
            Assert.True(body.RootElement.GetProperty("terminating").GetBoolean());
            Assert.Single(body.RootElement.GetProperty("stoppedJobs").EnumerateArray());
        }
        using var wait = new CancellationTokenSource(Bound);
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, (await _engine.Client.WaitForInstanceCompletionAsync(runId, wait.Token)).RuntimeStatus);

        // The run ended: the project is free again.
        using var next = await StartAsync();
        Assert.Equal(HttpStatusCode.Accepted, next.StatusCode);
    }

    [Theory]
    [InlineData("get", "/api/runs/run-none", HttpStatusCode.NotFound, "run run-none not found")]
    [InlineData("get", "/api/runs/a..b%3F", HttpStatusCode.BadRequest, "invalid run id")]
    [InlineData("get", "/api/runs?project=..", HttpStatusCode.BadRequest, "invalid project '..'")]
    [InlineData("post", "/api/runs/run-none/terminate", HttpStatusCode.NotFound, "run run-none not found")]
    [InlineData("post", "/api/runs/run-none/approve", HttpStatusCode.BadRequest, "body: empty, expected a JSON object")]
    public async Task Unknown_runs_and_bad_names_are_refused_with_their_status(string method, string url, HttpStatusCode status, string error)
    {
        using var response = method == "get" ? await _api.Http.GetAsync(url) : await _api.Http.PostAsync(url, new ByteArrayContent([]));
        Assert.Contains(error, await ErrorAsync(response, status));
    }

    [Theory]
    [InlineData("{}", "body: approved: missing (true or false)")]
    [InlineData("""{"approved": "yes"}""", "body: approved: expected true or false")]
    [InlineData("""{"approved": true, "when": "now"}""", "body: when: unknown key (expected one of: approved, by, comment)")]
    public async Task A_bad_approval_is_refused_naming_the_key(string body, string error)
    {
        using var response = await _api.Http.PostAsync("/api/runs/run-none/approve", Json(body));
        Assert.Contains(error, await ErrorAsync(response, HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task An_approval_through_the_API_reaches_the_run_waiting_at_its_manual_gate()
    {
        const string runId = "run-manual";
        var input = PipelineHarness.Input("""{ "gate": { "mode": "manual", "rules": [] } }""");
        await _engine.Client.ScheduleNewOrchestrationInstanceAsync(PipelineNames.Orchestrator, input, new StartOrchestrationOptions(runId));
        await WaitForStepAsync(runId, "Train");
        await _store.WriteAllTextAsync($"runs/{runId}/release", "");
        await WaitForStepAsync(runId, "AwaitingApproval");

        using var approved = await _api.Http.PostAsync($"/api/runs/{runId}/approve", Json("""{"approved": true, "by": "dana"}"""));
        Assert.Equal(HttpStatusCode.Accepted, approved.StatusCode);
        using var body = JsonDocument.Parse(await approved.Content.ReadAsStringAsync());
        Assert.Equal(runId, body.RootElement.GetProperty("runId").GetString());
        using var wait = new CancellationTokenSource(Bound);
        var done = await _engine.Client.WaitForInstanceCompletionAsync(runId, getInputsAndOutputs: true, wait.Token);
        Assert.Equal(PipelineOutcome.Completed, done.ReadOutputAs<PipelineResult>()!.Outcome);
    }

    Task<HttpResponseMessage> StartAsync() =>
        _api.Http.PostAsync("/api/runs", Json("{\"project\": \"acme\", \"config\": { " + Base + " }}"));

    static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    /// <summary>Asserts an error response (status, JSON content type, a body of exactly one "error" line) and returns its message.</summary>
    static async Task<string> ErrorAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        using var body = JsonDocument.Parse(text);
        var error = Assert.Single(body.RootElement.EnumerateObject());
        Assert.Equal("error", error.Name);
        string message = error.Value.GetString()!;
        Assert.DoesNotContain('\n', message);
        return message;
    }

    async Task WaitForStepAsync(string runId, string step)
    {
        using var bound = new CancellationTokenSource(Bound);
        while (true)
        {
            var run = await _engine.Client.GetInstanceAsync(runId, getInputsAndOutputs: true, bound.Token);
            if (run is { IsCompleted: true }) Assert.Fail($"run {runId} ended ({run.RuntimeStatus}) before {step}: {run.FailureDetails?.ErrorMessage}");
            if (run?.ReadCustomStatusAs<PipelineStatus>()?.Step == step) return;
            await Task.Delay(50, bound.Token);
        }
    }
}
