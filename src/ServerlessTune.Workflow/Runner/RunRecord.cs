using System.Text.Json;
using ServerlessTune.Core;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Workflow.Runner;

/// <summary>
/// runs/{runId}/run.json: what an embedded run was started with, written before it starts, so `stune run --resume`
/// continues it with the very options it began with (pipeline.json may have changed since).
/// </summary>
/// <param name="Fingerprint">Hash of the dataset folder and the options: the same command on the same files gives the same one.</param>
public sealed record RunRecord(string RunId, string Fingerprint, PipelineInput Input)
{
    // The durable serializer's settings: the input must read back exactly as the orchestrator received it.
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public Task WriteAsync(IArtifactStore store, CancellationToken ct = default) =>
        store.WriteAllTextAsync(ArtifactLayout.Run(RunId).Record, JsonSerializer.Serialize(this, Json), ct);

    public static async Task<RunRecord> ReadAsync(IArtifactStore store, string runId, CancellationToken ct = default)
    {
        string path = ArtifactLayout.Run(runId).Record;
        if (!await store.ExistsAsync(path, ct))
            throw new UserInputException($"run {runId}: no such run in {store.Location} ({path} not found)");
        try
        {
            return JsonSerializer.Deserialize<RunRecord>(await store.ReadAllTextAsync(path, ct), Json)
                   ?? throw new UserInputException($"{path}: null, expected a run record");
        }
        catch (JsonException e)
        {
            throw new UserInputException($"{path}: not a run record: {e.Message}", e);
        }
    }
}
