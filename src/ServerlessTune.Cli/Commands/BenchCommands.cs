using System.CommandLine;

namespace ServerlessTune.Cli.Commands;

/// <summary>`stune bench ...`: repeatable performance measurements, each printing ratios against a limit
/// measured in the same run. One file per benchmark (Bench*Command.cs).</summary>
internal static class BenchCommands
{
    public static Command Create()
    {
        var bench = new Command("bench", "Measure performance against limits measured in the same run.");
        foreach (var command in Benchmarks())
            bench.Subcommands.Add(command);
        return bench;
    }

    static IEnumerable<Command> Benchmarks()
    {
        // one line per benchmark; keep alphabetical
        yield return BenchGenerateCommand.Create();
        yield return BenchPrepareCommand.Create();
        yield return BenchTrainCommand.Create();
    }
}
