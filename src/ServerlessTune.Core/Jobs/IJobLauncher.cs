using ServerlessTune.Core.Training;
using ServerlessTune.Pipeline.Orchestration;

namespace ServerlessTune.Pipeline.Training;

/// <summary>Runs the ServerlessTune.Trainer program somewhere: a local child process or a cloud job.</summary>
public interface IJobLauncher
{
    /// <summary>Short name recorded with each job, e.g. "local" or "containerapps".</summary>
    string Name { get; }

    /// <param name="specPath">Where the spec is stored (runs/{runId}/spec.json), for trainers that read it from the store.</param>
    Task<TrainingJob> StartAsync(JobSpec spec, string specPath, CancellationToken ct = default);

    /// <summary>Running, Succeeded, or Failed with the job's own message. Progress comes from the run's metrics, not from here.</summary>
    Task<TrainingStatus> GetStatusAsync(TrainingJob job, CancellationToken ct = default);

    Task StopAsync(TrainingJob job, CancellationToken ct = default);
}
