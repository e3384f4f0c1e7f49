using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ServerlessTune.Core;
using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Hosted;
using ServerlessTune.Core.Jobs;
using ServerlessTune.Core.Storage;
using ServerlessTune.Workflow.Api;
using ServerlessTune.Workflow.Jobs;

namespace ServerlessTune.Workflow.Runner;

/// <param name="Status">Completed, GateFailed, Failed or Terminated.</param>
/// <param name="Error">The run's failure message (the failed step and its own error) when Status is Failed.</param>
public sealed record PipelineRunResult(string RunId, string Status, GateResult? Gate, string? Version, string? Alias, string? Error, PipelineResult? Result);

public sealed record PipelineRunnerOptions
{
    /// <summary>Activities to use instead of the built-in ones, by name (see <see cref="PipelineTasks.Register"/>).</summary>
    public IReadOnlyDictionary<string, Type> Activities { get; init; } = new Dictionary<string, Type>();
    /// <summary>How often the runner reads the run's status for progress (the run itself never sleeps).</summary>
    public TimeSpan StatusInterval { get; init; } = TimeSpan.FromMilliseconds(250);
    /// <summary>Services the replacement activities need, added after the pipeline's own.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }
    public ILoggerFactory? LoggerFactory { get; init; }
    /// <summary>The hosted fine-tuning services for azure-openai:/openai: bases (the CLI wires them from the environment).</summary>
    public IHostedModels? Hosted { get; init; }
    /// <summary>Where the engine keeps its state; null = in memory. A persistent backend lets a later process continue a run.</summary>
    public Func<ILoggerFactory, DurableBackend>? Backend { get; init; }
}

/// <summary>
/// Runs the pipeline embedded, with no cloud: the real Durable Task engine in process (<see cref="EmbeddedDurableHost"/>),
/// the same orchestrator and activities the Functions app hosts, artifacts in the given store.
/// A run is continued where it can be: on a persistent backend the same orchestration instance goes on (its history
/// holds the finished steps); in memory a new instance under the same run id starts over the run's artifacts, and
/// the steps skip what those show as done (prepared data, a job's final status, evaluation families, registered versions).
/// Cancelling stops the engine (no further step starts) and returns; the caller stops the jobs.
/// </summary>
public sealed class PipelineRunner(IArtifactStore store, IJobLauncher launcher, PipelineRunnerOptions? options = null)
{
    readonly PipelineRunnerOptions _options = options ?? new PipelineRunnerOptions();

    /// <param name="terminate">Ends the run for good: the orchestration is terminated and every job it started is stopped
    /// (a hosted fine-tuning job is cancelled). Cancelling <paramref name="ct"/> instead only stops watching: the jobs go on,
    /// and a run started again with the same id reattaches to them.</param>
    public Task<PipelineRunResult> RunAsync(PipelineInput input, IProgress<PipelineStatus>? progress = null, string? runId = null,
        CancellationToken ct = default, CancellationToken terminate = default) =>
        RunAsync(new RunRecord(runId ?? RunIds.New(DateTimeOffset.UtcNow), "", input), progress, ct, terminate);

    /// <summary>Runs or continues the recorded run; the project must not be held by another run that is still going.</summary>
    /// <param name="terminate">As for the other overload.</param>
    public async Task<PipelineRunResult> RunAsync(RunRecord record, IProgress<PipelineStatus>? progress = null, CancellationToken ct = default,
        CancellationToken terminate = default)
    {
        var loggers = _options.LoggerFactory ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
        var backend = _options.Backend?.Invoke(loggers) ?? DurableBackend.InMemory(loggers);
        await using var host = await EmbeddedDurableHost.StartAsync(backend,
            registry => PipelineTasks.Register(registry, _options.Activities),
            services =>
            {
                services.AddPipelineServices(store, launcher, _options.Hosted);
                _options.ConfigureServices?.Invoke(services);
            },
            loggers, ct);
        string id = record.RunId, project = record.Input.Project;
        var claims = new ActiveRuns(store);
        var queries = new RunQueries(host.Client);
        if (await claims.TryClaimAsync(project, new ActiveRun(id, record.Fingerprint, DateTimeOffset.UtcNow), other => queries.IsGoingAsync(other.RunId, ct), ct) is { } holder)
            throw new UserInputException($"project {project}: run {holder.RunId} is in progress (since {holder.SinceUtc:u}); wait for it or stop it first");
        if (await host.Client.GetInstanceAsync(id, ct) is null)
            await host.Client.ScheduleNewOrchestrationInstanceAsync(PipelineNames.Orchestrator, record.Input, new StartOrchestrationOptions(id), ct);
        Task? terminating = null;
        OrchestrationMetadata metadata;
        using (terminate.Register(() => terminating = TerminateAsync(host.Client, id)))
            metadata = await WatchAsync(host.Client, id, progress, ct);
        if (terminating is not null) await terminating;
        await claims.ReleaseAsync(project, id, CancellationToken.None);
        return Summarise(id, metadata);
    }

    async Task TerminateAsync(DurableTaskClient client, string id)
    {
        await client.TerminateInstanceAsync(id, "terminated by the user");
        await new RunJobs(store, JobLaunchers.For(launcher, _options.Hosted)).StopAllAsync(id);
    }

    /// <summary>Reports each new custom status until the run ends.</summary>
    async Task<OrchestrationMetadata> WatchAsync(DurableTaskClient client, string id, IProgress<PipelineStatus>? progress, CancellationToken ct)
    {
        string? lastStatus = null;
        while (true)
        {
            var metadata = await client.GetInstanceAsync(id, getInputsAndOutputs: true, ct)
                           ?? throw new InvalidOperationException($"run {id} disappeared from the in-process task hub");
            if (metadata.SerializedCustomStatus is { } status && status != lastStatus)
            {
                lastStatus = status;
                if (metadata.ReadCustomStatusAs<PipelineStatus>() is { } parsed) progress?.Report(parsed);
            }
            if (metadata.IsCompleted) return metadata;
            await Task.Delay(_options.StatusInterval, ct);
        }
    }

    public static PipelineRunResult Summarise(string id, OrchestrationMetadata metadata)
    {
        if (metadata.RuntimeStatus == OrchestrationRuntimeStatus.Completed)
        {
            var result = metadata.ReadOutputAs<PipelineResult>() ?? throw new JsonException($"run {id} completed without a result");
            return new PipelineRunResult(id, result.Outcome, result.Gate, result.Version, result.Alias, null, result);
        }
        return new PipelineRunResult(id, metadata.RuntimeStatus.ToString(), null, null, null, metadata.FailureDetails?.ErrorMessage, null);
    }
}
