using System.Net;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using ServerlessTune.Core;
using ServerlessTune.Core.PipelineConfig;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Workflow.Api;

/// <summary>
/// Starts pipeline runs for the HTTP API and the blob trigger, validating before anything is scheduled. One run at a
/// time per project: a start claims projects/{project}/active-run.json (<see cref="ActiveRuns"/>) before it schedules,
/// and a start while the claim's run is going is refused (409) with the run that holds the project.
/// </summary>
public sealed class RunStarter(DurableTaskClient client, IArtifactStore store, TimingOptions? timing = null)
{
    /// <summary>
    /// A claim is written just before its run is scheduled: one younger than this whose run does not exist yet is a
    /// start under way (pipeline.json and _ready of one upload arrive together), not a start that died.
    /// </summary>
    public static readonly TimeSpan StartGrace = TimeSpan.FromMinutes(1);

    /// <summary>Blob names (below datasets/{project}/) whose arrival starts a run; data files alone never do.</summary>
    public static readonly IReadOnlyList<string> StartMarkers = [DatasetPaths.ConfigFile, DatasetPaths.ReadyMarker];

    /// <summary>
    /// Schedules a run with the given options (already parsed from a request), or with the project's
    /// datasets/{project}/pipeline.json when null: parsed here, once for the whole run, so a bad file is refused
    /// while the caller is there to read the message.
    /// </summary>
    public async Task<string> StartAsync(string project, PipelineOptions? options, string? runId = null, CancellationToken ct = default)
    {
        var dataset = ArtifactLayout.Dataset(project);
        string source = "request config";
        if (options is null)
        {
            source = dataset.Config;
            options = await store.ExistsAsync(source, ct) ? PipelineOptionsParser.Parse(await store.ReadAllTextAsync(source, ct), source) : new PipelineOptions();
        }
        if (options.Project is { } named && named != project)
            throw new UserInputException($"{source}: project: '{named}' differs from the run's project '{project}'");
        await options.RequireReferencedFilesAsync(source, path => store.ExistsAsync(dataset.File(path), ct));
        var input = new PipelineInput(project, options, source, timing);
        var now = DateTimeOffset.UtcNow;
        runId ??= RunIds.New(now);
        if (await new ActiveRuns(store).TryClaimAsync(project, new ActiveRun(runId, "", now), holder => IsGoingAsync(holder, ct), ct) is { } busy)
            throw new ApiError(HttpStatusCode.Conflict, $"project {project}: run {busy.RunId} is in progress (since {busy.SinceUtc:u}); no other run starts until it ends");
        return await client.ScheduleNewOrchestrationInstanceAsync(PipelineNames.Orchestrator, input, new StartOrchestrationOptions(runId), ct);
    }

    async Task<bool> IsGoingAsync(ActiveRun holder, CancellationToken ct) =>
        await client.GetInstanceAsync(holder.RunId, ct) is { } run ? !run.IsCompleted : DateTimeOffset.UtcNow - holder.SinceUtc < StartGrace;

    /// <summary>
    /// The blob trigger's decision for datasets/{project}/{name}: a start marker starts one run, anything else is
    /// ignored (null). One upload starts one run (<see cref="UploadRuns"/>): the other marker of the same upload and a
    /// redelivered event find the run the upload started, before or after it ended, and start nothing
    /// (<see cref="BlobStart.Started"/> false). An upload while another run holds the project is refused
    /// (<see cref="ApiError"/> 409) and not recorded, so a later event of it may start it.
    /// </summary>
    public async Task<BlobStart?> StartForBlobAsync(string project, string name, CancellationToken ct = default)
    {
        var dataset = ArtifactLayout.Dataset(project);
        if (!StartMarkers.Contains(name, StringComparer.Ordinal) || !await store.ExistsAsync(dataset.File(name), ct)) return null;
        var upload = await DatasetUpload.ListAsync(store, dataset, ct);
        var uploads = new UploadRuns(store);
        if (await uploads.TryClaimAsync(project, upload, earlier => IsStartedAsync(earlier, ct), ct) is { } earlier)
            return new BlobStart(earlier.RunId, Started: false);
        try
        {
            await StartAsync(project, null, upload.RunId, ct);
        }
        catch
        {
            await uploads.ForgetAsync(project, upload, CancellationToken.None);
            throw;
        }
        await uploads.ScheduledAsync(project, upload, ct);
        return new BlobStart(upload.RunId, Started: true);
    }

    /// <summary>An upload's record whose start is not under way and whose run does not exist is one of a start that died: taken over.</summary>
    async Task<bool> IsStartedAsync(UploadRun earlier, CancellationToken ct) =>
        earlier.Scheduled || DateTimeOffset.UtcNow - earlier.SinceUtc < StartGrace || await client.GetInstanceAsync(earlier.RunId, ct) is not null;
}

/// <param name="Started">False when the upload had already started this run (the other marker of the upload, a redelivery).</param>
public sealed record BlobStart(string RunId, bool Started);
