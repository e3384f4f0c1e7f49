using System.Text.Json;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Training;

namespace ServerlessTune.Core.Jobs;

/// <summary>
/// The job container's work (ServerlessTune.Trainer calls it): reads a <see cref="JobSpec"/> from the store, runs
/// the job of its kind, and writes the job's last word to runs/{runId}/jobs/{kind}/status.json, also when it fails.
/// Any store works: a local folder here, Blob Storage in Azure.
/// </summary>
public sealed class JobRunner(IArtifactStore store, string workDirectory)
{
    public async Task<JobStatus> RunAsync(string specPath, Action<string>? log = null, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        log ??= _ => { };
        var started = DateTimeOffset.UtcNow;
        JobSpec? spec = null;
        try
        {
            spec = JobSpec.Parse(await store.ReadAllTextAsync(specPath, cancellationToken), $"{store.Location}/{specPath}");
            if (spec.Kind == JobKinds.Evaluate)
            {
                await new EvaluateJob(store).RunAsync(spec, log, cancellationToken);
                return await FinishAsync(spec, started, JobStatus.Succeeded, null, null);
            }
            var result = await new TrainJob(store, workDirectory).RunAsync(spec, log, progress, cancellationToken);
            return await FinishAsync(spec, started, result.Interrupted ? JobStatus.Interrupted : JobStatus.Succeeded, null, result);
        }
        catch (Exception ex) when (spec is not null && ex is not OperationCanceledException)
        {
            await FinishAsync(spec, started, JobStatus.Failed, ex.Message, null);
            throw;
        }
    }

    async Task<JobStatus> FinishAsync(JobSpec spec, DateTimeOffset started, string status, string? error, FineTuneResult? result)
    {
        var document = new JobStatus
        {
            RunId = spec.RunId, Kind = spec.Kind, Status = status, Error = error, StartedAt = started, FinishedAt = DateTimeOffset.UtcNow,
            Result = result,
        };
        await store.WriteAllTextAsync(ArtifactLayout.Run(spec.RunId).Job(spec.Kind).Status, JsonSerializer.Serialize(document, JobStatus.Json));
        return document;
    }
}
