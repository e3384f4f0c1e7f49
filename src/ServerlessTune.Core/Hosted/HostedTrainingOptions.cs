using System.Text.Json;
using ServerlessTune.Core.Common;

namespace ServerlessTune.Core.Hosted;

/// <summary>
/// pipeline.json's train section for a hosted base: the hyperparameters the fine-tuning API has (the job's suffix is
/// the project). Null leaves the service's "auto". Keys of our own trainer (lora_rank, max_steps, learning_rate...)
/// are refused by name: the service would not apply them, and a silently ignored key is a wrong run.
/// </summary>
/// <param name="Epochs">n_epochs.</param>
public sealed record HostedTrainingOptions(int? Epochs = null, int? BatchSize = null, double? LearningRateMultiplier = null, int? Seed = null)
{
    public static readonly IReadOnlyList<string> Keys = ["epochs", "batch_size", "learning_rate_multiplier", "seed"];

    /// <param name="where">Names the section in errors, e.g. "datasets/acme/pipeline.json: train".</param>
    public static HostedTrainingOptions Parse(JsonElement value, string where, string baseModel)
    {
        JsonFields.RequireObject(value, where);
        foreach (var property in value.EnumerateObject())
            if (!Keys.Contains(property.Name))
                throw new UserInputException($"{where}: {property.Name}: not a hyperparameter of the hosted fine-tuning API for base_model '{baseModel}'" +
                                             (property.Name == "learning_rate" ? " (use learning_rate_multiplier)" : "") +
                                             $" (it takes {string.Join(", ", Keys)})");
        double? multiplier = JsonFields.OptionalNumber(value, "learning_rate_multiplier", where);
        if (multiplier is { } m && (!double.IsFinite(m) || m <= 0 || m > 10))
            throw new UserInputException($"{where}: learning_rate_multiplier: expected a number above 0 and at most 10, got {m}");
        return new HostedTrainingOptions(
            Whole(value, "epochs", where, 1, 50),
            Whole(value, "batch_size", where, 1, 256),
            multiplier,
            Whole(value, "seed", where, 0, int.MaxValue));
    }

    static int? Whole(JsonElement value, string key, string where, int min, int max)
    {
        double? number = JsonFields.OptionalNumber(value, key, where);
        if (number is null) return null;
        if (number < min || number > max || number != Math.Floor(number.Value))
            throw new UserInputException($"{where}: {key}: expected a whole number from {min} to {max}, got {number}");
        return (int)number;
    }
}
