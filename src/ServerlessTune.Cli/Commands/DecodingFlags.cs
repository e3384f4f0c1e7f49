using System.CommandLine;
using ServerlessTune.Core.Generation;

namespace ServerlessTune.Cli.Commands;

/// <summary>How to decode: the sampling flags every command that generates text shares.</summary>
internal sealed class DecodingFlags(int defaultMaxNewTokens)
{
    readonly Option<int> maxNewTokens = new("--max-new-tokens") { Description = "Most tokens to generate per answer.", DefaultValueFactory = _ => defaultMaxNewTokens };
    readonly Option<double> temperature = new("--temperature") { Description = "Sampling temperature; 0 (default) is greedy and reproducible.", DefaultValueFactory = _ => 0.0 };
    readonly Option<double> topP = new("--top-p") { Description = "Nucleus sampling: keep the likeliest tokens up to this probability mass.", DefaultValueFactory = _ => 1.0 };
    readonly Option<int> topK = new("--top-k") { Description = "Sample among the k likeliest tokens; 0 is off.", DefaultValueFactory = _ => 0 };
    readonly Option<double> repetitionPenalty = new("--repetition-penalty") { Description = "Penalty above 1 for tokens already present.", DefaultValueFactory = _ => 1.0 };
    readonly Option<long> seed = new("--seed") { Description = "Sampling seed: the same seed gives the same text.", DefaultValueFactory = _ => 0L };
    readonly Option<string[]> stop = new("--stop") { Description = "Stop where this text appears (repeatable); it is not printed." };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { maxNewTokens, temperature, topP, topK, repetitionPenalty, seed, stop })
            command.Options.Add(option);
    }

    public long Seed(ParseResult parse) => parse.GetValue(seed);

    /// <summary>The options, validated (a bad value is a UserInputException naming it).</summary>
    public GenerationOptions Options(ParseResult parse)
    {
        var options = new GenerationOptions
        {
            MaxNewTokens = parse.GetValue(maxNewTokens),
            Temperature = parse.GetValue(temperature),
            TopP = parse.GetValue(topP),
            TopK = parse.GetValue(topK),
            RepetitionPenalty = parse.GetValue(repetitionPenalty),
            Seed = parse.GetValue(seed),
            StopStrings = parse.GetValue(stop) ?? [],
        };
        options.Validate();
        return options;
    }
}
