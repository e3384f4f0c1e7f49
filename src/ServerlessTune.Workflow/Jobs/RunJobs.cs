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
        // A lost execution's last word must not be read as the new one's.
        await store.DeleteAsync(paths.Status, ct);
        var job = await launcher.StartAsync(spec, paths.Spec, ct);
        await store.WriteAllTextAsync(paths.Execution, JsonSerializer.Serialize(job, Json), ct);
        return job;
    }

    /// <summary>
    /// The launcher's view, except that a job the launcher lost track of (a new worker process after a restart)
    /// but which wrote its final status before that finished: it is not started again.
    /// </summary>
    public async Task<JobProgress> GetStatusAsync(JobHandle job, CancellationToken ct = default)
    {
        var state = await launcher.GetStatusAsync(job, ct);
        if (state.State == JobState.Lost) state = await FinishedWhileLostAsync(job, ct) ?? state;
        if (job.Kind != JobKinds.Train) return state;
        var steps = (await MetricsFile.ReadAsync(store, ArtifactLayout.Run(job.RunId).Metrics, ct)).Where(r => r.Step is not null).ToList();
        return state with
        {
            Step = steps.LastOrDefault()?.Step,
            TotalSteps = steps.LastOrDefault(r => r.TotalSteps is not null)?.TotalSteps,
            Loss = steps.LastOrDefault(r => r.Loss is not null)?.Loss,
        };
    }

    async Task<JobProgress?> FinishedWhileLostAsync(JobHandle job, CancellationToken ct)
    {
        string path = ArtifactLayout.Run(job.RunId).Job(job.Kind).Status;
        if (!await store.ExistsAsync(path, ct)) return null;
        var status = JobStatus.Parse(await store.ReadAllTextAsync(path, ct), path);
        return status.Status switch
        {
            JobStatus.Succeeded => new JobProgress(JobState.Succeeded),
            JobStatus.Failed => new JobProgress(JobState.Failed, Error: status.Error),
            _ => null,
        };
    }

    public Task StopAsync(JobHandle job, CancellationToken ct = default) => launcher.StopAsync(job, ct);

    /// <summary>
    /// Stops every job the run started (a terminated run's orchestrator never runs again, so nothing else would: a
    /// hosted job would go on training, and billing, without it). A job that already ended is left as it is.
    /// </summary>
    public async Task<IReadOnlyList<JobHandle>> StopAllAsync(string runId, CancellationToken ct = default)
    {
        var stopped = new List<JobHandle>();
        foreach (var kind in JobKinds.All)
        {
            string execution = ArtifactLayout.Run(runId).Job(kind).Execution;
            if (!await store.ExistsAsync(execution, ct)) continue;
            var job = JsonSerializer.Deserialize<JobHandle>(await store.ReadAllTextAsync(execution, ct), Json)
                      ?? throw new InvalidDataException($"{execution}: empty");
            await launcher.StopAsync(job, ct);
            stopped.Add(job);
        }
        return stopped;
    }
}
