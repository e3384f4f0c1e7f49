using System.Text.Json;
using ServerlessTune.Core.Jobs;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Training;

namespace ServerlessTune.Workflow.Jobs;

/// <summary>
/// The jobs of a run, recorded in the store: starts each (training, evaluation) once, reports its state (a
/// training job with the latest step and loss from runs/{runId}/metrics.jsonl), and stops it. The Train and
/// Evaluate steps build the specs; this is what they share.
/// </summary>
public sealed class RunJobs(IArtifactStore store, IJobLauncher launcher)
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Idempotent: a retried or replayed start finds runs/{runId}/jobs/{kind}/execution.json and returns that job
    /// instead of launching a second one, unless a lost job is relaunched on purpose. The spec is written first, so
    /// the run records what it was asked.
    /// </summary>
    public async Task<JobHandle> StartAsync(JobSpec spec, bool relaunch, CancellationToken ct = default)
    {
        var paths = ArtifactLayout.Run(spec.RunId).Job(spec.Kind);
        if (!relaunch && await store.ExistsAsync(paths.Execution, ct))
            return JsonSerializer.Deserialize<JobHandle>(await store.ReadAllTextAsync(paths.Execution, ct), Json)
                   ?? throw new InvalidDataException($"{paths.Execution}: empty");
        await store.WriteAllTextAsync(paths.Spec, spec.ToJson(), ct);
        var job = await launcher.StartAsync(spec, paths.Spec, ct);
        await store.WriteAllTextAsync(paths.Execution, JsonSerializer.Serialize(job, Json), ct);
        return job;
    }

    public async Task<JobProgress> GetStatusAsync(JobHandle job, CancellationToken ct = default)
    {
        var state = await launcher.GetStatusAsync(job, ct);
        if (job.Kind != JobKinds.Train) return state;
        var steps = (await MetricsFile.ReadAsync(store, ArtifactLayout.Run(job.RunId).Metrics, ct)).Where(r => r.Step is not null).ToList();
        return state with
        {
            Step = steps.LastOrDefault()?.Step,
            TotalSteps = steps.LastOrDefault(r => r.TotalSteps is not null)?.TotalSteps,
            Loss = steps.LastOrDefault(r => r.Loss is not null)?.Loss,
        };
    }

    public Task StopAsync(JobHandle job, CancellationToken ct = default) => launcher.StopAsync(job, ct);
}
