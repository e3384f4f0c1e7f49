using System.Text.Json;
using System.Text.Json.Serialization;
using ServerlessTune.Core.Common;
using ServerlessTune.Core.Data;
using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Hosted;
using ServerlessTune.Core.Feedback;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Training;

namespace ServerlessTune.Core.PipelineConfig;

/// <summary>
/// Reads pipeline.json. Every error is a UserInputException of the form "{source}: {key}: reason",
/// with nested keys spelt as paths (prepare.max_tokens, gate: rules[0].op). Unknown keys are errors, so a
/// misspelt option never silently falls back to its default. Pure (no I/O): runs are parsed once, where they start.
/// </summary>
public static class PipelineOptionsParser
{
    static readonly string[] Keys = ["project", "base_model", "tokenizer", "chat_template", "prepare", "train", "eval", "gate", "deploy", "feedback"];

    static readonly JsonSerializerOptions PrepareJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public static PipelineOptions Parse(string json, string source = DatasetPaths.ConfigFile)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new UserInputException($"{source}:{(e.LineNumber ?? 0) + 1}: invalid JSON: {e.Message}", e);
        }
        using (document)
            return Parse(document.RootElement, source);
    }

    static PipelineOptions Parse(JsonElement root, string source)
    {
        JsonFields.RequireObject(root, source);
        JsonFields.RejectUnknownKeys(root, source, Keys);
        string? project = JsonFields.OptionalString(root, "project", source);
        if (project is not null) Keyed(source, "project", () => ArtifactPath.ValidateName(project, "project"));
        string? baseModel = NonEmpty(root, "base_model", source);
        bool hosted = IsHostedBase(baseModel, source);
        string? tokenizer = NonEmpty(root, "tokenizer", source);
        string? template = NonEmpty(root, "chat_template", source);
        // The service tokenises and renders chats its own way; data preparation counts with the family's encoding.
        if (hosted && (tokenizer ?? template) is not null)
            throw new UserInputException($"{source}: {(tokenizer is not null ? "tokenizer" : "chat_template")}: fixed by the hosted base model '{baseModel}'");

        var prepare = root.TryGetProperty("prepare", out var p) ? ParsePrepare(p, $"{source}: prepare") : new PrepareOptions();
        // The top-level overrides apply to data preparation too, so prepared tokens match what the trainer renders.
        prepare = prepare with { Tokenizer = tokenizer ?? prepare.Tokenizer, Template = template ?? prepare.Template };
        Keyed(source, "prepare", () => prepare.Validate());
        var feedback = root.TryGetProperty("feedback", out var f) ? ParseFeedback(f, $"{source}: feedback") : new FeedbackOptions();
        var eval = root.TryGetProperty("eval", out var e)
            ? ParseEval(e, $"{source}: eval", hosted, feedback.Include)
            : WithFeedbackFamily(HostedFamilies(new EvalOptions(), hosted), feedback.Include);
        var gate = root.TryGetProperty("gate", out var g) ? ParseGate(g, $"{source}: gate", hosted, eval)
            : hosted ? PipelineOptions.DefaultHostedGate : PipelineOptions.DefaultGate;

        return new PipelineOptions
        {
            Project = project,
            BaseModel = baseModel,
            Tokenizer = tokenizer,
            ChatTemplate = template,
            Prepare = prepare,
            Train = root.TryGetProperty("train", out var t) && !hosted ? ParseTrain(t, $"{source}: train") : new TrainingOptions(),
            HostedTrain = !hosted ? null
                : root.TryGetProperty("train", out var h) ? HostedTrainingOptions.Parse(h, $"{source}: train", baseModel!) : new HostedTrainingOptions(),
            Eval = eval,
            Gate = gate,
            Deploy = root.TryGetProperty("deploy", out var d) ? ParseDeploy(d, $"{source}: deploy", hosted) : new DeployOptions(),
            Feedback = feedback,
        };
    }

    static bool IsHostedBase(string? baseModel, string source)
    {
        try { return HostedBaseModel.TryParse(baseModel, out _); }
        catch (UserInputException e) { throw new UserInputException($"{source}: {e.Message}", e); }
    }

    /// <summary>Hosted models answer through chat completions, which return no log-probabilities of the prompt's tokens.</summary>
    static EvalOptions HostedFamilies(EvalOptions eval, bool hosted) => hosted
        ? eval with { Families = [.. eval.Families.Where(f => f != EvalOptions.LanguageModel)] }
        : eval;

    /// <summary>The served answers users rejected are evaluated whenever the run reads them, unless the families are listed.</summary>
    static EvalOptions WithFeedbackFamily(EvalOptions eval, bool feedbackIncluded) =>
        feedbackIncluded ? eval with { Families = [.. eval.Families, EvalOptions.Feedback] } : eval;

    static GateOptions ParseGate(JsonElement value, string where, bool hosted, EvalOptions eval)
    {
        var gate = GateOptions.Parse(value, where);
        for (int i = 0; i < gate.Rules.Count; i++)
        {
            var kind = MetricCatalog.Get(gate.Rules[i].Metric).Kind;
            if (hosted && kind == MetricKind.LanguageModel)
                throw new UserInputException(
                    $"{where}: rules[{i}].metric: '{gate.Rules[i].Metric}' is not available for hosted models (it needs the log-probabilities of the prompt's tokens, which chat completions do not return)");
            // Without the family (feedback.include false, or families that leave it out) the metric could never be measured.
            if (kind == MetricKind.FeedbackMean && !eval.Families.Contains(EvalOptions.Feedback))
                throw new UserInputException(
                    $"{where}: rules[{i}].metric: '{gate.Rules[i].Metric}' needs the feedback cases evaluated: feedback.include true and, when eval.families is given, '{EvalOptions.Feedback}' in it");
        }
        return gate;
    }

    static PrepareOptions ParsePrepare(JsonElement value, string where)
    {
        JsonFields.RequireObject(value, where);
        try
        {
            return value.Deserialize<PrepareOptions>(PrepareJson) ?? new PrepareOptions();
        }
        catch (JsonException e)
        {
            throw new UserInputException($"{where}{KeyOf(e.Path)}: {FirstSentence(e.Message)}", e);
        }
    }

    static TrainingOptions ParseTrain(JsonElement value, string where)
    {
        JsonFields.RequireObject(value, where);
        var options = TrainingOptions.Parse(value.GetRawText(), where);
        ResolvedTrainingOptions.Check(options, where);
        return options;
    }

    static EvalOptions ParseEval(JsonElement value, string where, bool hosted, bool feedbackIncluded)
    {
        JsonFields.RequireObject(value, where);
        JsonFields.RejectUnknownKeys(value, where, "suite", "dialogues", "families", "max_cases", "max_new_tokens", "batch_size");
        string? suite = JsonFields.OptionalString(value, "suite", where);
        if (suite is not null) Keyed(where, "suite", () => ArtifactPath.Validate(suite));
        string? dialogues = JsonFields.OptionalString(value, "dialogues", where);
        if (dialogues is not null) Keyed(where, "dialogues", () => ArtifactPath.Validate(dialogues));
        int? maxCases = PositiveInt(value, "max_cases", where);
        int? maxNewTokens = PositiveInt(value, "max_new_tokens", where);
        int? batchSize = PositiveInt(value, "batch_size", where);
        var families = JsonFields.OptionalStrings(value, "families", where);
        if (families is not null)
        {
            if (families.Count == 0) throw new UserInputException($"{where}: families: empty (leave it out to evaluate every family)");
            foreach (var family in families)
                if (!EvalOptions.AllFamilies.Contains(family))
                    throw new UserInputException($"{where}: families: unknown family '{family}' (known: {string.Join(", ", EvalOptions.AllFamilies)})");
            if (families.Distinct().Count() != families.Count)
                throw new UserInputException($"{where}: families: listed twice");
            if (families.Contains(EvalOptions.Dialogues) && dialogues is null)
                throw new UserInputException($"{where}: families: '{EvalOptions.Dialogues}' needs a dialogues file (eval.dialogues)");
            if (families.Contains(EvalOptions.Feedback) && !feedbackIncluded)
                throw new UserInputException($"{where}: families: '{EvalOptions.Feedback}' needs feedback.include (the served conversations are not read)");
            if (hosted && families.Contains(EvalOptions.LanguageModel))
                throw new UserInputException(
                    $"{where}: families: '{EvalOptions.LanguageModel}' is not available for hosted models (it needs the log-probabilities of the prompt's tokens, which chat completions do not return)");
        }
        var settings = new EvalOptions
        {
            Suite = suite, DialoguesFile = dialogues, MaxCases = maxCases,
            MaxNewTokens = maxNewTokens ?? new EvalOptions().MaxNewTokens, BatchSize = batchSize ?? new EvalOptions().BatchSize,
        };
        return families is null ? WithFeedbackFamily(HostedFamilies(settings, hosted), feedbackIncluded) : settings with { Families = families };
    }

    static int? PositiveInt(JsonElement value, string key, string where)
    {
        double? number = JsonFields.OptionalNumber(value, key, where);
        if (number is null) return null;
        if (number < 1 || number > 100_000 || number != Math.Floor(number.Value))
            throw new UserInputException($"{where}: {key}: expected a whole number from 1 to 100000, got {number}");
        return (int)number;
    }

    static DeployOptions ParseDeploy(JsonElement value, string where, bool hosted)
    {
        JsonFields.RequireObject(value, where);
        JsonFields.RejectUnknownKeys(value, where, "alias", "format");
        string alias = JsonFields.OptionalString(value, "alias", where) ?? ModelRegistry.Production;
        if (alias is not (ModelRegistry.Production or ModelRegistry.Staging))
            throw new UserInputException($"{where}: alias: '{alias}' is not one of {ModelRegistry.Production}, {ModelRegistry.Staging}");
        var format = WeightFormat.Fp32;
        if (JsonFields.OptionalString(value, "format", where) is { } name)
        {
            if (!WeightFormats.TryParse(name, out format))
                throw new UserInputException($"{where}: format: '{name}' is not one of {string.Join(", ", WeightFormats.Names)}");
            // The hosted service holds its own weights: nothing here could serve them in another format.
            if (hosted && format != WeightFormat.Fp32)
                throw new UserInputException($"{where}: format: '{name}' applies to open models; a hosted model is served by its service");
        }
        return new DeployOptions(alias, format);
    }

    static FeedbackOptions ParseFeedback(JsonElement value, string where)
    {
        JsonFields.RequireObject(value, where);
        JsonFields.RejectUnknownKeys(value, where, "include", "since", "min_rating", "retention_days", "retrain_after");
        var defaults = new FeedbackOptions();
        bool include = JsonFields.OptionalBoolean(value, "include", where) ?? defaults.Include;
        DateOnly? since = null;
        if (JsonFields.OptionalString(value, "since", where) is { } text)
            since = DateOnly.TryParseExact(text, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.None, out var day)
                ? day
                : throw new UserInputException($"{where}: since: '{text}' is not a yyyy-mm-dd date");
        double minRating = JsonFields.OptionalNumber(value, "min_rating", where) ?? defaults.MinRating;
        if (minRating != 1)
            throw new UserInputException($"{where}: min_rating: ratings are +1 or -1 and a rated-down answer is never trained on, so 1 is the only value (got {minRating})");
        int retention = PositiveInt(value, "retention_days", where) ?? defaults.RetentionDays;
        int? retrainAfter = PositiveInt(value, "retrain_after", where);
        if (retrainAfter is not null && !include)
            throw new UserInputException($"{where}: retrain_after: a run started for new ratings would not read them (include is false)");
        return new FeedbackOptions(include, since, (int)minRating, retention, retrainAfter);
    }

    static string? NonEmpty(JsonElement root, string key, string where)
    {
        string? value = JsonFields.OptionalString(root, key, where);
        if (value is not null && string.IsNullOrWhiteSpace(value))
            throw new UserInputException($"{where}: {key}: empty (leave the key out for the default)");
        return value;
    }

    /// <summary>Runs a validation whose own message does not name the key, and prefixes it.</summary>
    static void Keyed(string where, string key, Action validate)
    {
        try { validate(); }
        catch (UserInputException e) { throw new UserInputException($"{where}: {key}: {e.Message}", e); }
    }

    static string KeyOf(string? jsonPath) => jsonPath is { Length: > 2 } path ? "." + path[2..] : "";

    static string FirstSentence(string message)
    {
        int end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..end];
    }
}
