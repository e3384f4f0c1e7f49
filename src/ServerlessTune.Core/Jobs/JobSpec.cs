using System.Text.Json;
using System.Text.Json.Serialization;
using ServerlessTune.Core.Hosted;
using ServerlessTune.Core.PipelineConfig;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Training;
using ServerlessTune.Core.Modeling;

namespace ServerlessTune.Core.Jobs;

/// <summary>What a job container can be asked to do. Both kinds need libtorch, so both run in the job image.</summary>
public static class JobKinds
{
    /// <summary>Fine-tune the base model on the prepared data.</summary>
    public const string Train = "train";
    /// <summary>Run every model of the comparison on the evaluation inputs, one output per metric family.</summary>
    public const string Evaluate = "evaluate";
    public static readonly IReadOnlyList<string> All = [Train, Evaluate];
}

/// <summary>
/// What a job is asked to do: artifact paths in the store and the options of its kind. The workflow writes it
/// to runs/{runId}/jobs/{kind}/spec.json; <see cref="JobRunner"/> reads it in the job container. A job writes
/// its outputs where <see cref="ArtifactLayout.Run"/> names them for its run id.
/// </summary>
public sealed record JobSpec
{
    /// <summary>One of <see cref="JobKinds"/>.</summary>
    public string Kind { get; init; } = JobKinds.Train;
    public required string RunId { get; init; }
    /// <summary>The project whose dataset folder holds the evaluation files.</summary>
    public string? Project { get; init; }
    /// <summary>Store folder holding train.jsonl and validation.jsonl, e.g. prepared/{runId}.</summary>
    public required string Data { get; init; }
    public string? ChatTemplate { get; init; }

    /// <summary>Training: store folder of the base model (config.json, model.safetensors, tokenizer files).</summary>
    public string? BaseModel { get; init; }
    public TrainingOptions Hyperparameters { get; init; } = new();
    /// <summary>Training on a hosted base (BaseModel azure-openai:... or openai:...): the API's hyperparameters.</summary>
    public HostedTrainingOptions? Hosted { get; init; }
    public bool Merge { get; init; }

    /// <summary>Evaluation: the models to compare and how to measure them.</summary>
    public EvaluationSpec? Evaluation { get; init; }

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
        if (!JobKinds.All.Contains(spec.Kind))
            throw new UserInputException($"{source}: kind '{spec.Kind}' is not one of {string.Join(", ", JobKinds.All)}");
        ArtifactPath.ValidateName(spec.RunId, "run_id");
        if (spec.Project is not null) ArtifactPath.ValidateName(spec.Project, "project");
        var paths = new List<(string Key, string? Value)> { ("data", spec.Data) };
        if (spec.Kind == JobKinds.Train)
            paths.Add(("base_model", spec.BaseModel ?? throw new UserInputException($"{source}: base_model: missing (a training job needs one)")));
        else
        {
            var evaluation = spec.Evaluation ?? throw new UserInputException($"{source}: evaluation: missing (an evaluation job needs one)");
            if (spec.Project is null) throw new UserInputException($"{source}: project: missing (an evaluation job reads the project's eval files)");
            if (evaluation.Models.Count == 0) throw new UserInputException($"{source}: evaluation.models: empty");
            foreach (var model in evaluation.Models)
                paths.AddRange([($"evaluation.models[{model.Name}].model", model.Model), ($"evaluation.models[{model.Name}].adapter", model.Adapter)]);
        }
        foreach (var (key, value) in paths)
            if (value is not null && !ArtifactPath.IsValid(value.TrimEnd('/')))
                throw new UserInputException($"{source}: {key} '{value}' is not a valid artifact path");
        return spec;
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);
}

/// <param name="Models">Every model of the comparison, by role: base, candidate and (when the project has one) production.</param>
/// <param name="Options">The pipeline's eval section; its files are relative to the project's dataset folder.</param>
public sealed record EvaluationSpec(IReadOnlyList<StoredModel> Models, EvalOptions Options);

/// <summary>A model in the store: a Hugging Face folder, optionally with a PEFT adapter folder applied on top.</summary>
/// <param name="Name">Its role in the comparison: base, candidate, production.</param>
/// <param name="Source">What the report names it by (a path or a registry alias).</param>
/// <param name="Format">How the job holds the weights: the candidate as deploy.format will serve it, production as it is served.</param>
public sealed record StoredModel(string Name, string Model, string? Adapter, string Source, WeightFormat Format = WeightFormat.Fp32);
