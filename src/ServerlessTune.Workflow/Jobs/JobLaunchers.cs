using ServerlessTune.Core.Hosted;
using ServerlessTune.Core.Jobs;

namespace ServerlessTune.Workflow.Jobs;

/// <summary>
/// The host's job container launcher and the hosted fine-tuning service as one launcher: a training spec whose base
/// model is hosted goes to the service, every other job to the container; status and stop follow the launcher each
/// job was started by (its handle names it), so the orchestrator's one job loop polls both alike.
/// </summary>
public sealed class JobLaunchers(IJobLauncher container, IJobLauncher hosted) : IJobLauncher
{
    public string Name => container.Name;

    /// <summary>The container launcher alone where no hosted service is wired.</summary>
    public static IJobLauncher For(IJobLauncher container, IHostedModels? hosted) =>
        hosted is null ? container : new JobLaunchers(container, hosted.Training);

    public Task<JobHandle> StartAsync(JobSpec spec, string specPath, CancellationToken ct = default) =>
        (spec.Kind == JobKinds.Train && HostedBaseModel.IsHosted(spec.BaseModel) ? hosted : container).StartAsync(spec, specPath, ct);

    public Task<JobProgress> GetStatusAsync(JobHandle job, CancellationToken ct = default) => Of(job).GetStatusAsync(job, ct);

    public Task StopAsync(JobHandle job, CancellationToken ct = default) => Of(job).StopAsync(job, ct);

    IJobLauncher Of(JobHandle job) => job.Launcher == hosted.Name ? hosted : container;
}
