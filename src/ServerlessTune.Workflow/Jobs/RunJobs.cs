using System.Text.Json;
using ServerlessTune.Core;
using ServerlessTune.Core.Pipeline;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Training;
using ServerlessTune.Pipeline.Orchestration;

namespace ServerlessTune.Pipeline.Training;

/// <summary>
/// The Train step's service: builds the job spec, starts the job once per run, and reports its state
/// with the latest step and loss from runs/{runId}/metrics.jsonl.
/// </summary>
public sealed class TrainingJobs(IArtifactStore store, IJobLauncher launcher)
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Idempotent: a retried or replayed start finds runs/{runId}/execution.json and returns that job instead
    /// of launching a second one (unless the job was lost and is relaunched on purpose). The spec is written first (runs/{runId}/spec.json) so the run records what it trained.
    /// </summary>
    public async Task<TrainingJob> StartAsync(StartTrainingInput input, CancellationToken ct = default)
    {
        string runId = ArtifactPath.ValidateName(input.RunId, "run id");
        string executionPath = $"runs/{runId}/execution.json";
        if (!input.Relaunch && await store.ExistsAsync(executionPath, ct))
            return JsonSerializer.Deserialize<TrainingJob>(await store.ReadAllTextAsync(executionPath, ct), Json)
                   ?? throw new InvalidDataException($"{executionPath}: empty");

        var config = PipelineConfigParser.Parse(input.ConfigJson ?? "{}", input.ConfigSource);
        var spec = new JobSpec
        {
            RunId = runId,
            BaseModel = input.BaseModel,
            Data = ArtifactPath.Validate(input.DataPrefix),
            Output = $"runs/{runId}",
            Hyperparameters = config.Train,
            ChatTemplate = config.ChatTemplate,
        };
        // The trainer writes its own status to runs/{runId}/job.json; the spec sits beside it.
        string specPath = $"runs/{runId}/spec.json";
        await store.WriteAllTextAsync(specPath, spec.ToJson(), ct);
        var job = await launcher.StartAsync(spec, specPath, ct);
        await store.WriteAllTextAsync(executionPath, JsonSerializer.Serialize(job, Json), ct);
        return job;
    }

    public async Task<TrainingStatus> GetStatusAsync(TrainingJob job, CancellationToken ct = default)
    {
        var state = await launcher.GetStatusAsync(job, ct);
        var (step, total, loss) = await LatestMetricsAsync(job.RunId, ct);
        return state with { Step = step, TotalSteps = total, Loss = loss };
    }

    public Task StopAsync(TrainingJob job, CancellationToken ct = default) => launcher.StopAsync(job, ct);

    /// <summary>The last complete line of metrics.jsonl that has a step; a line being written is skipped, not an error.</summary>
    async Task<(int? Step, int? TotalSteps, double? Loss)> LatestMetricsAsync(string runId, CancellationToken ct)
    {
        string path = $"runs/{ArtifactPath.ValidateName(runId, "run id")}/metrics.jsonl";
        if (!await store.ExistsAsync(path, ct)) return (null, null, null);
        (int? Step, int? TotalSteps, double? Loss) latest = (null, null, null);
        await foreach (var line in store.ReadLinesAsync(path, ct))
        {
            try
            {
                using var record = JsonDocument.Parse(line);
                var root = record.RootElement;
                if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("step", out var step) && step.TryGetInt32(out int s))
                    latest = (s,
                        root.TryGetProperty("total_steps", out var total) && total.TryGetInt32(out int t) ? t : latest.TotalSteps,
                        root.TryGetProperty("loss", out var loss) && loss.ValueKind == JsonValueKind.Number ? loss.GetDouble() : latest.Loss);
            }
            catch (JsonException) { }
        }
        return latest;
    }
}
