using System.Text.Json;
using System.Text.Json.Serialization;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Training;

/// <summary>
/// What the training container job is asked to do: artifact paths in the store for the base model folder,
/// the prepared data folder and the run folder, plus the hyperparameters. The orchestrator writes it;
/// <see cref="TrainerJob"/> reads it.
/// </summary>
public sealed record JobSpec
{
    public required string RunId { get; init; }
    /// <summary>Store folder of the base model (config.json, model.safetensors, tokenizer files).</summary>
    public required string BaseModel { get; init; }
    /// <summary>Store folder holding train.jsonl and validation.jsonl, e.g. prepared/{runId}.</summary>
    public required string Data { get; init; }
    /// <summary>Store folder receiving metrics.jsonl, checkpoints/, adapter/, merged/ and job.json, e.g. runs/{runId}.</summary>
    public required string Output { get; init; }
    public TrainingOptions Hyperparameters { get; init; } = new();
    public bool Merge { get; init; }
    public string? ChatTemplate { get; init; }

    internal static readonly JsonSerializerOptions Json = new(TrainingOptions.Json);

    public static JobSpec Parse(string json, string source)
    {
        JobSpec? spec;
        try { spec = JsonSerializer.Deserialize<JobSpec>(json, Json); }
        catch (JsonException ex)
        {
            string where = ex.Path is { Length: > 1 } p ? $" at {p[2..]}" : "";
            throw new UserInputException($"{source}:{(ex.LineNumber ?? 0) + 1}: invalid job spec{where}: {ex.Message.Split(". ")[0]}", ex);
        }
        if (spec is null) throw new UserInputException($"{source}: job spec is null, expected an object");
        ArtifactPath.ValidateName(spec.RunId, "run_id");
        foreach (var (key, value) in new[] { ("base_model", spec.BaseModel), ("data", spec.Data), ("output", spec.Output) })
            if (!ArtifactPath.IsValid(value.TrimEnd('/')))
                throw new UserInputException($"{source}: {key} '{value}' is not a valid artifact path");
        return spec;
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);
}
