using System.Text.Json;
using System.Text.Json.Serialization;
using ServerlessTune.Core.Common;

namespace ServerlessTune.Core.Evaluation;

/// <summary>What the pipeline does with the gate: block on failure, report only (deploy to staging), or wait for a person.</summary>
public enum GateMode
{
    Enforce,
    Advisory,
    Manual,
}

/// <summary>
/// One comparison: Model's Metric Op (Value | RelativeTo's Metric × Factor + Offset).
/// JSON: {"metric": "perplexity", "model": "candidate", "op": "&lt;=", "relative_to": "base", "factor": 0.9}
/// or {"metric": "must_not_contain_violations", "op": "==", "value": 0}. Model defaults to "candidate";
/// give exactly one of value and relative_to; factor (default 1) and offset (default 0) go with relative_to.
/// A suite metric may be taken over a subset: "subset": "clean" (the cases whose question is not in the training
/// data) or "contaminated".
/// </summary>
[JsonNumberHandling(JsonNumberHandling.AllowNamedFloatingPointLiterals)]
public sealed record GateRule(string Metric, string Model, string Op, double? Value, string? RelativeTo, double Factor, double Offset, string? Subset = null)
{
    public static readonly string[] Ops = ["<", "<=", ">", ">=", "=="];
    public static readonly string[] Subsets = [ContaminationReport.Clean, ContaminationReport.Contaminated];

    /// <summary>The metric as the rule reads it, e.g. "f1" or "f1 (clean cases)".</summary>
    public string MetricName => Subset is null ? Metric : $"{Metric} ({Subset} cases)";

    public string Describe() => $"{Model} {MetricName} {Op} {RightSide()}";

    /// <summary>The threshold as written: a number, or e.g. "0.9 x base perplexity - 0.01".</summary>
    public string RightSide()
    {
        if (Value is { } value)
            return Number(value);
        var factor = Factor == 1 ? "" : $"{Number(Factor)} x ";
        var offset = Offset == 0 ? "" : Offset > 0 ? $" + {Number(Offset)}" : $" - {Number(-Offset)}";
        return $"{factor}{RelativeTo} {MetricName}{offset}";
    }

    internal static string Number(double value) => value.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// The quality gate as data: {"mode": "enforce|advisory|manual", "rules": [rule, ...]}. Mode defaults
/// to enforce. Parse errors name the key, e.g. "gate.json: rules[1].op: '=>' is not one of ...".
/// </summary>
public sealed record GateOptions(GateMode Mode, IReadOnlyList<GateRule> Rules)
{
    public const string DefaultModel = "candidate";
    static readonly Dictionary<string, GateMode> Modes = new(StringComparer.Ordinal)
    {
        ["enforce"] = GateMode.Enforce,
        ["advisory"] = GateMode.Advisory,
        ["manual"] = GateMode.Manual,
    };
    static readonly string[] RuleKeys = ["metric", "model", "op", "value", "relative_to", "factor", "offset", "subset"];

    public static GateOptions Load(string path)
    {
        string text;
        using (var reader = JsonRecords.OpenText(path))
            text = reader.ReadToEnd();
        try
        {
            using var document = JsonDocument.Parse(text);
            return Parse(document.RootElement, path);
        }
        catch (JsonException ex)
        {
            throw new UserInputException($"{path}:{(ex.LineNumber ?? 0) + 1}: invalid JSON", ex);
        }
    }

    /// <param name="where">Names the source in errors, e.g. "gate.json" or "pipeline.json: gate".</param>
    public static GateOptions Parse(JsonElement value, string where)
    {
        JsonFields.RequireObject(value, where);
        JsonFields.RejectUnknownKeys(value, where, "mode", "rules");
        var modeText = JsonFields.OptionalString(value, "mode", where) ?? "enforce";
        if (!Modes.TryGetValue(modeText, out var mode))
            throw new UserInputException($"{where}: mode: '{modeText}' is not one of enforce, advisory, manual");
        if (!value.TryGetProperty("rules", out var rulesValue))
            throw new UserInputException($"{where}: rules: missing (use [] for a gate without rules)");
        if (rulesValue.ValueKind != JsonValueKind.Array)
            throw new UserInputException($"{where}: rules: expected an array, got {JsonFields.Describe(rulesValue)}");
        var rules = new List<GateRule>();
        foreach (var ruleValue in rulesValue.EnumerateArray())
            rules.Add(ParseRule(ruleValue, $"{where}: rules[{rules.Count}]"));
        return new GateOptions(mode, rules);
    }

    static GateRule ParseRule(JsonElement value, string where)
    {
        JsonFields.RequireObject(value, where);
        JsonFields.RejectUnknownKeys(value, where, RuleKeys);
        var metric = JsonFields.RequiredString(value, "metric", where);
        if (MetricCatalog.Find(metric) is null)
            throw new UserInputException($"{where}: metric: unknown metric '{metric}' (known: {string.Join(", ", MetricCatalog.All.Select(m => m.Name))})");
        var model = JsonFields.OptionalString(value, "model", where) ?? DefaultModel;
        var op = JsonFields.RequiredString(value, "op", where);
        if (!GateRule.Ops.Contains(op))
            throw new UserInputException($"{where}: op: '{op}' is not one of {string.Join(" ", GateRule.Ops)}");
        var fixedValue = JsonFields.OptionalNumber(value, "value", where);
        var relativeTo = JsonFields.OptionalString(value, "relative_to", where);
        var factor = JsonFields.OptionalNumber(value, "factor", where);
        var offset = JsonFields.OptionalNumber(value, "offset", where);
        if ((fixedValue is null) == (relativeTo is null))
            throw new UserInputException($"{where}: give exactly one of 'value' or 'relative_to'");
        if (fixedValue is not null && (factor is not null || offset is not null))
            throw new UserInputException($"{where}: {(factor is not null ? "factor" : "offset")}: only applies with 'relative_to'");
        if (relativeTo == model)
            throw new UserInputException($"{where}: relative_to: the rule compares '{model}' with itself");
        var subset = JsonFields.OptionalString(value, "subset", where);
        if (subset is not null && !GateRule.Subsets.Contains(subset))
            throw new UserInputException($"{where}: subset: '{subset}' is not one of {string.Join(", ", GateRule.Subsets)}");
        if (subset is not null && MetricCatalog.Get(metric).Kind is MetricKind.LanguageModel or MetricKind.FeedbackMean)
            throw new UserInputException($"{where}: subset: applies to suite metrics, not to {metric} (measured over "
                + (MetricCatalog.Get(metric).Kind == MetricKind.LanguageModel ? "the validation split)" : "the feedback cases)"));
        return new GateRule(metric, model, op, fixedValue, relativeTo, factor ?? 1, offset ?? 0, subset);
    }
}
