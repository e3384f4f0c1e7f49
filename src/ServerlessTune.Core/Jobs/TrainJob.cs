using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Training;

namespace ServerlessTune.Core.Jobs;

/// <summary>
/// The training job: pulls the base model and data into a local work folder, trains, and pushes metrics,
/// checkpoints (as each is written, so an evicted job loses at most one checkpoint interval) and the adapter
/// back to runs/{runId}/. A retried job pulls the run's checkpoints first and resumes.
/// </summary>
public sealed class TrainJob(IArtifactStore store, string workDirectory)
{
    /// <returns>The recipe's result, its outputs named by their place in the store rather than the job's scratch folder.</returns>
    public async Task<FineTuneResult> RunAsync(JobSpec spec, Action<string> log, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var run = ArtifactLayout.Run(spec.RunId);
        string baseModel = spec.BaseModel!;
        string modelDir = Path.Combine(workDirectory, "model"), dataDir = Path.Combine(workDirectory, "data"), runDir = Path.Combine(workDirectory, "run");
        if (await store.DownloadFolderAsync(baseModel, modelDir, cancellationToken) == 0)
            throw new UserInputException($"{baseModel}: no model files in {store.Location}");
        if (await store.DownloadFolderAsync(spec.Data, dataDir, cancellationToken) == 0)
            throw new UserInputException($"{spec.Data}: no prepared data in {store.Location}");
        await PullPreviousRunAsync(run, runDir, cancellationToken);
        log($"job {spec.RunId}: model {baseModel}, data {spec.Data}, output {run.Folder}");

        var request = new FineTuneRequest
        {
            ModelDirectory = modelDir,
            DataDirectory = dataDir,
            OutputDirectory = runDir,
            Options = spec.Hyperparameters,
            Resume = true,
            Merge = spec.Merge,
            ChatTemplate = spec.ChatTemplate,
            OnCheckpoint = checkpoint => PushCheckpoint(run, runDir, checkpoint),
        };
        var result = FineTuneRecipe.Run(request, progress, log, cancellationToken);
        await PushOutputsAsync(run, runDir, CancellationToken.None);
        return result with
        {
            AdapterDirectory = result.AdapterDirectory is null ? null : run.Adapter,
            MergedDirectory = result.MergedDirectory is null ? null : run.Merged,
        };
    }

    async Task PullPreviousRunAsync(RunPaths run, string runDir, CancellationToken ct)
    {
        await store.DownloadFolderAsync(run.Checkpoints, Path.Combine(runDir, RunPaths.CheckpointsFolder), ct);
        if (await store.ExistsAsync(run.Metrics, ct))
            await store.DownloadFileAsync(run.Metrics, Path.Combine(runDir, RunPaths.MetricsFile), ct);
    }

    /// <summary>Uploads one checkpoint with its trainer_state.json last, so a store reader never takes a
    /// partly uploaded checkpoint as complete.</summary>
    void PushCheckpoint(RunPaths run, string runDir, string checkpointDir)
    {
        string relative = Path.GetRelativePath(runDir, checkpointDir).Replace(Path.DirectorySeparatorChar, '/');
        var files = Directory.GetFiles(checkpointDir).OrderBy(f => Path.GetFileName(f) == TrainingCheckpoints.StateFile).ThenBy(f => f, StringComparer.Ordinal);
        foreach (var file in files)
            Upload(file, ArtifactPath.Combine(run.Folder, relative, Path.GetFileName(file))).GetAwaiter().GetResult();
        Upload(Path.Combine(runDir, RunPaths.MetricsFile), run.Metrics).GetAwaiter().GetResult();
    }

    async Task PushOutputsAsync(RunPaths run, string runDir, CancellationToken ct)
    {
        foreach (var (name, prefix) in new[] { (RunPaths.AdapterFolder, run.Adapter), (RunPaths.MergedFolder, run.Merged) })
            if (Directory.Exists(Path.Combine(runDir, name)))
                await store.UploadFolderAsync(Path.Combine(runDir, name), prefix, ct);
        foreach (var (name, path) in new[] { (RunPaths.MetricsFile, run.Metrics), (RunPaths.SettingsFile, run.Settings) })
            if (File.Exists(Path.Combine(runDir, name)))
                await Upload(Path.Combine(runDir, name), path);
    }

    Task Upload(string file, string path) => store.WriteAsync(path, async (stream, token) =>
    {
        await using var source = File.OpenRead(file);
        await source.CopyToAsync(stream, token);
    });
}
