using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Jobs;
using ServerlessTune.Core.Storage;

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
}

/// <summary>
/// Runs the pipeline embedded, with no cloud: the real Durable Task engine in process (in-memory backend),
/// the same orchestrator and activities the Functions app hosts, artifacts in the given store.
/// </summary>
public sealed class PipelineRunner(IArtifactStore store, IJobLauncher launcher, PipelineRunnerOptions? options = null)
{
    readonly PipelineRunnerOptions _options = options ?? new PipelineRunnerOptions();

    public async Task<PipelineRunResult> RunAsync(PipelineInput input, IProgress<PipelineStatus>? progress = null, string? runId = null,
        CancellationToken ct = default)
    {
        await using var host = await DurableTaskTestHost.StartAsync(
            registry => PipelineTasks.Register(registry, _options.Activities),
            new DurableTaskTestHostOptions
            {
                ConfigureServices = services =>
                {
                    services.AddPipelineServices(store, launcher);
                    _options.ConfigureServices?.Invoke(services);
                },
                LoggerFactory = _options.LoggerFactory,
            },
            ct);
        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync(PipelineNames.Orchestrator, input,
            new StartOrchestrationOptions(runId ?? RunIds.New(DateTimeOffset.UtcNow)), ct);
        var metadata = await WatchAsync(host.Client, id, progress, ct);
        return Summarise(id, metadata);
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
