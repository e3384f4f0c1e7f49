using System.Text.RegularExpressions;

namespace ServerlessTune.Core.Hosted;

/// <summary>
/// A GPT-family base model fine-tuned by a hosted API instead of our trainer: base_model "azure-openai:{model}" (an
/// Azure OpenAI resource) or "openai:{model}" (api.openai.com or any endpoint speaking its protocol). The family
/// fixes what data preparation needs to know: the tokenizer the service counts with and the longest training example
/// it accepts. Every chat family takes weight 0/1 on assistant messages.
/// </summary>
public sealed partial record HostedBaseModel(string Provider, string Model)
{
    public const string AzureOpenAI = "azure-openai";
    public const string OpenAI = "openai";

    /// <summary>Model id prefixes the fine-tuning APIs document (dated versions and plain aliases both match).</summary>
    /// <remarks>
    /// Training example limits: OpenAI's and Azure OpenAI's fine-tuning guides (gpt-4o and gpt-4o-mini 65,536 tokens per
    /// example; gpt-4.1 family 65,536; gpt-3.5-turbo-0125/1106 16,385, 0613 4,096). o200k counts for the gpt-4o and
    /// gpt-4.1 families, cl100k for gpt-3.5/gpt-35 and gpt-4.
    /// </remarks>
    static readonly HostedFamily[] Families =
    [
        new("gpt-4.1-nano", "o200k", 65_536),
        new("gpt-4.1-mini", "o200k", 65_536),
        new("gpt-4.1", "o200k", 65_536),
        new("gpt-4o-mini", "o200k", 65_536),
        new("gpt-4o", "o200k", 65_536),
        new("gpt-35-turbo-0613", "cl100k", 4_096),
        new("gpt-3.5-turbo-0613", "cl100k", 4_096),
        new("gpt-35-turbo", "cl100k", 16_385),
        new("gpt-3.5-turbo", "cl100k", 16_385),
    ];

    /// <summary>The completion-format models: their files are prompt/completion pairs and they answer through the legacy completions API.</summary>
    static readonly string[] CompletionModels = ["babbage-002", "davinci-002"];

    HostedFamily Family => Families.First(f => Model.StartsWith(f.Prefix, StringComparison.Ordinal));

    /// <summary>The built-in encoding the service counts tokens with (o200k or cl100k).</summary>
    public string Tokenizer => Family.Tokenizer;

    /// <summary>The most tokens one training example may hold.</summary>
    public int ExampleTokenLimit => Family.ExampleTokenLimit;

    public string Spec => $"{Provider}:{Model}";

    /// <summary>True for "azure-openai:..." and "openai:..." specs, with the model checked; false for any other base model.</summary>
    /// <exception cref="UserInputException">A hosted prefix with a model the fine-tuning APIs do not offer (or we cannot drive).</exception>
    public static bool TryParse(string? spec, out HostedBaseModel model)
    {
        model = null!;
        if (!IsHosted(spec)) return false;
        if (SpecPattern().Match(spec!) is not { Success: true } match)
            throw new UserInputException($"base_model '{spec}': expected azure-openai:<model> or openai:<model>, the model an id like gpt-4o-mini-2024-07-18");
        string provider = match.Groups["provider"].Value, name = match.Groups["model"].Value;
        if (CompletionModels.Contains(name))
            throw new UserInputException(
                $"base_model '{spec}': {name} fine-tunes on prompt/completion pairs and answers through the legacy completions API, which ServerlessTune does not drive yet; use a chat model ({Known()})");
        if (!Families.Any(f => name.StartsWith(f.Prefix, StringComparison.Ordinal)))
            throw new UserInputException($"base_model '{spec}': '{name}' is not a model the fine-tuning API offers ({Known()})");
        model = new HostedBaseModel(provider, name);
        return true;
    }

    /// <summary>Whether a spec names a hosted base at all (its prefix), before the model is checked.</summary>
    public static bool IsHosted(string? spec) =>
        spec is not null && (spec.StartsWith(AzureOpenAI + ":", StringComparison.Ordinal) || spec.StartsWith(OpenAI + ":", StringComparison.Ordinal));

    public static HostedBaseModel Parse(string spec) =>
        TryParse(spec, out var model) ? model : throw new UserInputException($"base_model '{spec}': not azure-openai:<model> or openai:<model>");

    static string Known() => string.Join(", ", Families.Select(f => f.Prefix + "*"));

    public override string ToString() => Spec;

    sealed record HostedFamily(string Prefix, string Tokenizer, int ExampleTokenLimit);

    [GeneratedRegex(@"^(?<provider>azure-openai|openai):(?<model>[A-Za-z0-9][A-Za-z0-9._-]{0,95})$")]
    private static partial Regex SpecPattern();
}
