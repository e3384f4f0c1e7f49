using System.CommandLine;
using ServerlessTune.Core.Modeling;

namespace ServerlessTune.Cli.Commands;

/// <summary>`--format fp32|bf16|int8`: how a command holds the weights it decodes with (serve, generate, chat, the decode benches).</summary>
internal sealed class FormatFlag
{
    public FormatFlag(string description)
    {
        Option = new Option<string?>("--format") { Description = description };
        Option.AcceptOnlyFromAmong([.. WeightFormats.Names]);
    }

    public Option<string?> Option { get; }

    /// <summary>The format given, or null when the flag is absent.</summary>
    public WeightFormat? Value(ParseResult parse) =>
        parse.GetValue(Option) is { } name && WeightFormats.TryParse(name, out var format) ? format : null;
}
