using System.Text.Json;
using System.Text.Json.Serialization;
using ServerlessTune.Core.Training;

namespace ServerlessTune.Core.Jobs;

/// <summary>runs/{runId}/jobs/{kind}/status.json: the final word of a job, written by the job itself.</summary>
public sealed record JobStatus
{
    public const string Succeeded = "succeeded", Failed = "failed", Interrupted = "interrupted";

    public required string RunId { get; init; }
    public required string Kind { get; init; }
    public required string Status { get; init; }
    public string? Error { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required DateTimeOffset FinishedAt { get; init; }
    /// <summary>A training job's result, with its outputs named by their place in the store.</summary>
    public FineTuneResult? Result { get; init; }

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // A diverged run's loss is NaN; its status must still be written.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = true,
    };
}
