using System.Text.Json;
using System.Text.Json.Serialization;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Training;

/// <summary>runs/{runId}/job.json: the final word of a training job, read by the orchestrator.</summary>
public sealed record JobStatus
{
    public const string FileName = "job.json";
    public const string Succeeded = "succeeded", Failed = "failed", Interrupted = "interrupted";

    public required string RunId { get; init; }
    public required string Status { get; init; }
    public string? Error { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required DateTimeOffset FinishedAt { get; init; }
    public FineTuneResult? Result { get; init; }

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };
}

/// <summary>
/// The training container job: reads a <see cref="JobSpec"/> from the store, pulls the base model and data
/// into a local work folder, trains, and pushes metrics, checkpoints (as each is written, so an evicted job
/// loses at most one checkpoint interval) and the adapter back. A retried job pulls the run's checkpoints
/// first and resumes. Any store works: a local folder here, Blob Storage in Azure.
/// </summary>
public sealed class TrainerJob(IArtifactStore store, string workDirectory)
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
            string modelDir = Path.Combine(workDirectory, "model"), dataDir = Path.Combine(workDirectory, "data"), runDir = Path.Combine(workDirectory, "run");
            if (await store.DownloadFolderAsync(spec.BaseModel, modelDir, cancellationToken) == 0)
                throw new UserInputException($"{spec.BaseModel}: no model files in {store.Location}");
            if (await store.DownloadFolderAsync(spec.Data, dataDir, cancellationToken) == 0)
                throw new UserInputException($"{spec.Data}: no prepared data in {store.Location}");
            await PullPreviousRunAsync(spec, runDir, cancellationToken);
            log($"job {spec.RunId}: model {spec.BaseModel}, data {spec.Data}, output {spec.Output}");

            var request = new FineTuneRequest
            {
                ModelDirectory = modelDir,
                DataDirectory = dataDir,
                OutputDirectory = runDir,
                Options = spec.Hyperparameters,
                Resume = true,
                Merge = spec.Merge,
                ChatTemplate = spec.ChatTemplate,
                OnCheckpoint = checkpoint => PushCheckpoint(spec, runDir, checkpoint),
            };
            var result = FineTuneRecipe.Run(request, progress, log, cancellationToken);
            await PushOutputsAsync(spec, runDir, CancellationToken.None);
            // The status document names outputs by their place in the store, not the job's scratch folder.
            result = result with
            {
                AdapterDirectory = result.AdapterDirectory is null ? null : ArtifactPath.Combine(spec.Output, FineTuneRecipe.AdapterFolder),
                MergedDirectory = result.MergedDirectory is null ? null : ArtifactPath.Combine(spec.Output, FineTuneRecipe.MergedFolder),
            };
            return await FinishAsync(spec, started, result.Interrupted ? JobStatus.Interrupted : JobStatus.Succeeded, null, result);
        }
        catch (Exception ex) when (spec is not null && ex is not OperationCanceledException)
        {
            await FinishAsync(spec, started, JobStatus.Failed, ex.Message, null);
            throw;
        }
    }

    async Task PullPreviousRunAsync(JobSpec spec, string runDir, CancellationToken ct)
    {
        string prefix = spec.Output.TrimEnd('/') + "/";
        await foreach (var item in store.ListAsync(prefix + "checkpoints/", ct))
        {
            string target = Path.Combine(runDir, item.Path[prefix.Length..]);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            await using var source = await store.OpenReadAsync(item.Path, ct);
            await using var file = File.Create(target);
            await source.CopyToAsync(file, ct);
        }
        if (await store.ExistsAsync(prefix + MetricsWriter.FileName, ct))
        {
            Directory.CreateDirectory(runDir);
            await File.WriteAllTextAsync(Path.Combine(runDir, MetricsWriter.FileName), await store.ReadAllTextAsync(prefix + MetricsWriter.FileName, ct), ct);
        }
    }

    /// <summary>Uploads one checkpoint with its trainer_state.json last, so a store reader never takes a
    /// partly uploaded checkpoint as complete.</summary>
    void PushCheckpoint(JobSpec spec, string runDir, string checkpointDir)
    {
        string relative = Path.GetRelativePath(runDir, checkpointDir).Replace(Path.DirectorySeparatorChar, '/');
        var files = Directory.GetFiles(checkpointDir).OrderBy(f => Path.GetFileName(f) == TrainingCheckpoints.StateFile).ThenBy(f => f, StringComparer.Ordinal);
        foreach (var file in files)
            Upload(file, ArtifactPath.Combine(spec.Output, relative, Path.GetFileName(file))).GetAwaiter().GetResult();
        Upload(Path.Combine(runDir, MetricsWriter.FileName), ArtifactPath.Combine(spec.Output, MetricsWriter.FileName)).GetAwaiter().GetResult();
    }

    async Task PushOutputsAsync(JobSpec spec, string runDir, CancellationToken ct)
    {
        foreach (var name in new[] { FineTuneRecipe.AdapterFolder, FineTuneRecipe.MergedFolder })
            if (Directory.Exists(Path.Combine(runDir, name)))
                await store.UploadFolderAsync(Path.Combine(runDir, name), ArtifactPath.Combine(spec.Output, name), ct);
        foreach (var name in new[] { MetricsWriter.FileName, FineTuneRecipe.SettingsFile })
            if (File.Exists(Path.Combine(runDir, name)))
                await Upload(Path.Combine(runDir, name), ArtifactPath.Combine(spec.Output, name));
    }

    Task Upload(string file, string path) => store.WriteAsync(path, async (stream, token) =>
    {
        await using var source = File.OpenRead(file);
        await source.CopyToAsync(stream, token);
    });

    async Task<JobStatus> FinishAsync(JobSpec spec, DateTimeOffset started, string status, string? error, FineTuneResult? result)
    {
        var document = new JobStatus
        {
            RunId = spec.RunId, Status = status, Error = error, StartedAt = started, FinishedAt = DateTimeOffset.UtcNow, Result = result,
        };
        await store.WriteAllTextAsync(ArtifactPath.Combine(spec.Output, JobStatus.FileName), JsonSerializer.Serialize(document, JobStatus.Json));
        return document;
    }
}
