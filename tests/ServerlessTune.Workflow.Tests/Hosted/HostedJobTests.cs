using System.Text.Json;
using ServerlessTune.Core.Hosted;
using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Storage;
using ServerlessTune.Workflow.Tests.Orchestration;

namespace ServerlessTune.Workflow.Tests.Hosted;

/// <summary>
/// A hosted fine-tuning job's life in the pipeline, against the loopback service through the real clients: the
/// service's failure, throttling and server errors, a user error, a worker that restarts mid-job, a terminated run.
/// </summary>
public sealed class HostedJobTests
{
    const string Config = """{"base_model": "azure-openai:gpt-4o-mini-2024-07-18", "train": {"epochs": 1}}""";

    /// <summary>A status that shows the job is running at the service (its first metrics event has been read).</summary>
    static bool Training(PipelineStatus status) => status is { Step: "Train", Message: { } m } && m.StartsWith("Step ", StringComparison.Ordinal);

    [Fact]
    public async Task A_job_the_service_fails_fails_the_run_with_the_services_own_text()
    {
        await using var harness = await HostedHarness.StartAsync();
        harness.Server.FailWith = ("invalid_training_file", "The job failed due to an invalid training file: line 3 has no assistant message.");

        var result = await harness.Runner().RunAsync(HostedHarness.Input(Config), runId: "run-fail");

        Assert.Equal("Failed", result.Status);
        var job = Assert.Single(harness.Server.Jobs);
        Assert.Equal($"Train: hosted fine-tuning job {job.Id} failed: The job failed due to an invalid training file: line 3 has no assistant message. (invalid_training_file)",
            result.Error);
        Assert.Equal("failed", (await HostedJobRecord.ReadAsync(harness.Store, "run-fail"))!.Status);
        Assert.Empty(await new ModelRegistry(harness.Store).ListAsync(HostedHarness.Project));
        Assert.Empty(harness.Server.Deployments);
    }

    [Fact]
    public async Task Throttling_and_server_errors_are_retried_after_the_services_retry_after()
    {
        await using var harness = await HostedHarness.StartAsync();
        var server = harness.Server;
        // In the order the run meets them: the upload, the job's creation, a poll, the candidate's ARM deployment, its evaluation.
        server.Fail("POST", "/files", 503);
        server.Fail("POST", "/fine_tuning/jobs", 429, count: 2, retryAfterMs: 300);
        server.Fail("GET", "/checkpoints", 500);
        server.Fail("PUT", "/deployments/harbor-candidate", 429, retryAfterMs: 200);
        server.Fail("POST", "/chat/completions", 429, retryAfterMs: 200);

        var result = await harness.Runner().RunAsync(HostedHarness.Input(Config), runId: "run-429");

        Assert.True(result.Status == "Completed", result.Error);
        Assert.Single(server.Jobs);
        Assert.Equal(2, server.Files.Count);
        var requests = server.Requests.ToList();
        // The upload that met the 503 was sent again: three uploads for two files.
        Assert.Equal([503, 200, 200], requests.Where(r => r.Method == "POST" && r.Path.EndsWith("/files", StringComparison.Ordinal)).Select(r => r.Status));
        // Each throttled request was sent again, no sooner than the service asked.
        foreach (var (method, pathEnd, wait) in new[] { ("POST", "/fine_tuning/jobs", 300), ("POST", "/chat/completions", 200), ("PUT", "/deployments/harbor-candidate", 200) })
        {
            var same = requests.Where(r => r.Method == method && r.Path.EndsWith(pathEnd, StringComparison.Ordinal)).ToList();
            for (int i = 0; i < same.Count - 1; i++)
                if (same[i].Status == 429)
                    Assert.True(same[i + 1].At - same[i].At >= TimeSpan.FromMilliseconds(wait - 15), $"{method} {pathEnd} retried after {(same[i + 1].At - same[i].At).TotalMilliseconds} ms");
            Assert.Equal(429, same[0].Status);
            Assert.Contains(same, r => r.Status is 200 or 201);
        }
        Assert.Equal(2, requests.Count(r => r is { Method: "POST", Status: 429 } && r.Path.EndsWith("/fine_tuning/jobs", StringComparison.Ordinal)));
        Assert.Contains(requests, r => r is { Method: "GET", Status: 500 } && r.Path.EndsWith("/checkpoints", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_request_the_service_refuses_is_not_retried_and_fails_the_run_with_its_message()
    {
        await using var harness = await HostedHarness.StartAsync();
        harness.Server.Fail("POST", "/fine_tuning/jobs", 400, message: "Model gpt-4o-mini-2024-07-18 is not available for fine-tuning in this region.");

        var result = await harness.Runner().RunAsync(HostedHarness.Input(Config), runId: "run-400");

        Assert.Equal("Failed", result.Status);
        Assert.Contains("create fine-tuning job for azure-openai:gpt-4o-mini-2024-07-18: the service answered 400: Model gpt-4o-mini-2024-07-18 is not available for fine-tuning in this region.",
            result.Error);
        Assert.Equal(1, harness.Count("POST", "/fine_tuning/jobs"));
        Assert.Empty(harness.Server.Jobs);
    }

    [Fact]
    public async Task A_worker_restarted_mid_job_reattaches_to_the_job_it_recorded_and_creates_no_second_one()
    {
        await using var harness = await HostedHarness.StartAsync();
        harness.Server.RunningPolls = 1_000;
        using var stop = new CancellationTokenSource();
        var log = new StatusLog(status => { if (Training(status)) stop.Cancel(); });

        // The first worker goes away while the job trains (the engine and its clients with it).
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            harness.Runner().RunAsync(HostedHarness.Input(Config), log, runId: "run-restart", ct: stop.Token));
        var job = Assert.Single(harness.Server.Jobs);
        Assert.Equal("running", job.Status);
        var record = (await HostedJobRecord.ReadAsync(harness.Store, "run-restart"))!;
        Assert.Equal(job.Id, record.JobId);
        // The worst moment: the job was created but neither its id nor the run's job handle was written.
        await (record with { JobId = null }).WriteAsync(harness.Store, "run-restart");
        await harness.Store.DeleteAsync(ArtifactLayout.Run("run-restart").Job("train").Execution);

        harness.Server.FinishJobs();
        var result = await harness.Runner().RunAsync(HostedHarness.Input(Config), runId: "run-restart");

        Assert.True(result.Status == "Completed", result.Error);
        Assert.Same(job, Assert.Single(harness.Server.Jobs));
        Assert.Equal(1, harness.Count("POST", "/fine_tuning/jobs"));
        Assert.Equal(2, harness.Count("POST", "/files"));
        Assert.Equal(job.FineTunedModel, (await new ModelRegistry(harness.Store).ResolveAsync(HostedHarness.Project, ModelRegistry.Production))!.Hosted!.Model);
    }

    [Fact]
    public async Task A_terminated_run_cancels_its_fine_tuning_job()
    {
        await using var harness = await HostedHarness.StartAsync();
        harness.Server.RunningPolls = 1_000;
        using var terminate = new CancellationTokenSource();
        var log = new StatusLog(status => { if (Training(status)) terminate.Cancel(); });

        var result = await harness.Runner().RunAsync(HostedHarness.Input(Config), log, runId: "run-terminate", terminate: terminate.Token);

        Assert.Equal("Terminated", result.Status);
        var job = Assert.Single(harness.Server.Jobs);
        Assert.Equal("cancelled", job.Status);
        Assert.Equal(1, harness.Count("POST", $"/fine_tuning/jobs/{job.Id}/cancel"));
        Assert.Empty(harness.Server.Deployments);
    }
}
