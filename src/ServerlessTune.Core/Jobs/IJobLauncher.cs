namespace ServerlessTune.Core.Jobs;

/// <summary>
/// Runs the job container program (ServerlessTune.Trainer) somewhere: a local child process or a cloud job.
/// The contract sits in Core so that the workflow's local launcher and the Azure launcher implement it without
/// depending on each other.
/// </summary>
public interface IJobLauncher
{
    /// <summary>Short name recorded with each job, e.g. "local" or "containerapps".</summary>
    string Name { get; }

    /// <param name="specPath">Where the spec is stored (runs/{runId}/jobs/{kind}/spec.json), for job programs that read it from the store.</param>
    Task<JobHandle> StartAsync(JobSpec spec, string specPath, CancellationToken ct = default);

    /// <summary>Running, Succeeded, or Failed with the job's own message. Training progress comes from the run's metrics, not from here.</summary>
    Task<JobProgress> GetStatusAsync(JobHandle job, CancellationToken ct = default);

    Task StopAsync(JobHandle job, CancellationToken ct = default);
}

/// <param name="Kind">What the job does: <see cref="JobKinds.Train"/> or <see cref="JobKinds.Evaluate"/>; one job of each kind per run.</param>
/// <param name="ExecutionId">The launcher's handle: a process key locally, a job execution name in Container Apps.</param>
public sealed record JobHandle(string RunId, string Kind, string Launcher, string ExecutionId);

/// <summary>Lost: the job neither runs nor finished (its worker went away); starting it again resumes from what it saved.</summary>
public enum JobState { Running, Succeeded, Failed, Lost }

/// <param name="Error">The job's own message when it failed.</param>
/// <param name="Step">For a training job: the latest optimizer step in its metrics (with <paramref name="TotalSteps"/> and <paramref name="Loss"/>).</param>
public sealed record JobProgress(JobState State, int? Step = null, double? Loss = null, string? Error = null, int? TotalSteps = null);
