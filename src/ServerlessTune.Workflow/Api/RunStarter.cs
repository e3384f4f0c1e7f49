using System.Security.Cryptography;
using System.Text;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using ServerlessTune.Core;
using ServerlessTune.Core.Pipeline;
using ServerlessTune.Core.Storage;
using ServerlessTune.Pipeline.Orchestration;

namespace ServerlessTune.Pipeline.Api;

/// <summary>Starts pipeline runs for the HTTP API and the blob trigger, validating before anything is scheduled.</summary>
public sealed class RunStarter(DurableTaskClient client, IArtifactStore store, PipelineTiming? timing = null)
{
    /// <summary>Blob names (below datasets/{project}/) whose arrival starts a run; data files alone never do.</summary>
    public static readonly IReadOnlyList<string> StartMarkers = [PipelineConfigParser.FileName, "_ready"];

    /// <summary>Schedules a run with the given config, or the project's datasets/{project}/pipeline.json when null.</summary>
    public async Task<string> StartAsync(string project, string? configJson, string? runId = null, CancellationToken ct = default)
    {
        ArtifactPath.ValidateName(project, "project");
        string source;
        if (configJson is null)
        {
            source = $"datasets/{project}/{PipelineConfigParser.FileName}";
            configJson = await store.ExistsAsync(source, ct) ? await store.ReadAllTextAsync(source, ct) : null;
        }
        else source = "request config";
        // Refuse a bad config now, while the caller is there to read the message.
        var config = PipelineConfigParser.Parse(configJson ?? "{}", source);
        if (config.Project is { } named && named != project)
            throw new UserInputException($"{source}: project: '{named}' differs from the run's project '{project}'");
        var input = new PipelineInput(project, configJson, source, Timing: timing);
        return await client.ScheduleNewOrchestrationInstanceAsync(PipelineNames.Orchestrator, input,
            new StartOrchestrationOptions(runId ?? RunIds.New(DateTimeOffset.UtcNow)), ct);
    }

    /// <summary>
    /// The blob trigger's decision for datasets/{project}/{name}: a start marker starts one run, anything else
    /// is ignored (null). The run id comes from the marker's path and time, so a redelivered event finds
    /// the run it already started instead of starting another.
    /// </summary>
    public async Task<string?> StartForBlobAsync(string project, string name, CancellationToken ct = default)
    {
        ArtifactPath.ValidateName(project, "project");
        if (!StartMarkers.Contains(name, StringComparer.Ordinal)) return null;
        string path = ArtifactPath.Combine("datasets", project, name);
        ArtifactInfo? marker = null;
        await foreach (var item in store.ListAsync(path, ct))
            if (item.Path == path) marker = item;
        if (marker is null) return null;
        string runId = $"{marker.LastModified.UtcDateTime:yyyyMMdd-HHmmss}-" +
                       Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{path}@{marker.LastModified.UtcTicks}")))[..8];
        if (await client.GetInstanceAsync(runId, ct) is not null) return runId;
        return await StartAsync(project, null, runId, ct);
    }
}
