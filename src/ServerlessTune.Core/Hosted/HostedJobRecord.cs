using System.Text.Json;
using System.Text.Json.Serialization;
using ServerlessTune.Core.Jobs;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Hosted;

/// <summary>A checkpoint the service kept during the job: a model that can be deployed like the final one.</summary>
public sealed record HostedCheckpoint(string Id, int Step, string Model, double? TrainLoss, double? ValidLoss);

/// <summary>
/// runs/{runId}/jobs/train/hosted.json: what the hosted launcher knows about the run's fine-tuning job, written after
/// each thing it learns, so a restarted worker reattaches instead of starting over: the uploaded files (before the job
/// is created, so a retry finds the job those files started), the service's job id, the last event read, the
/// checkpoints and, when the job succeeded, the fine-tuned model the Evaluate and Deploy steps call.
/// </summary>
public sealed record HostedJobRecord
{
    /// <summary>The launcher name hosted jobs' handles carry.</summary>
    public const string Launcher = "hosted";

    public required string BaseModel { get; init; }
    public string? TrainingFile { get; init; }
    public string? ValidationFile { get; init; }
    public string? JobId { get; init; }
    /// <summary>The service's status word: validating_files, queued, running, succeeded, failed, cancelled.</summary>
    public string? Status { get; init; }
    public string? FineTunedModel { get; init; }
    /// <summary>The service's own error text when the job failed.</summary>
    public string? Error { get; init; }
    public string? LastEventId { get; init; }
    /// <summary>The latest event's message, for the run's status.</summary>
    public string? LastMessage { get; init; }
    public IReadOnlyList<HostedCheckpoint> Checkpoints { get; init; } = [];

    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    public static string PathOf(string runId) => ArtifactLayout.Run(runId).Job(JobKinds.Train).Hosted;

    public static async Task<HostedJobRecord?> ReadAsync(IArtifactStore store, string runId, CancellationToken ct = default)
    {
        string path = PathOf(runId);
        if (!await store.ExistsAsync(path, ct)) return null;
        try { return JsonSerializer.Deserialize<HostedJobRecord>(await store.ReadAllTextAsync(path, ct), Json); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a hosted job record: {e.Message}", e); }
    }

    public Task WriteAsync(IArtifactStore store, string runId, CancellationToken ct = default) =>
        store.WriteAllTextAsync(PathOf(runId), JsonSerializer.Serialize(this, Json), ct);

    /// <summary>The fine-tuned model of a run whose hosted job succeeded.</summary>
    public static async Task<string> FineTunedModelAsync(IArtifactStore store, string runId, CancellationToken ct = default) =>
        (await ReadAsync(store, runId, ct))?.FineTunedModel
        ?? throw new InvalidOperationException($"{PathOf(runId)}: no fine-tuned model recorded (the hosted job has not succeeded)");
}
