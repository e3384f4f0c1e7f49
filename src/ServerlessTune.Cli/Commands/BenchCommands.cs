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

    /// <summary>
    /// Says so on stderr when the code measured was compiled without optimisation (a Debug build): our own
    /// loops then run several times slower while the packages they are compared with stay optimised, so the
    /// ratios understate (bench prepare: 0.54 from Debug against 0.82-0.99 from Release here).
    /// </summary>
    public static void WarnIfDebugBuild()
    {
        var debuggable = typeof(ServerlessTune.Core.UserInputException).Assembly.GetCustomAttributes(typeof(System.Diagnostics.DebuggableAttribute), false)
            .OfType<System.Diagnostics.DebuggableAttribute>().FirstOrDefault();
        if (debuggable?.IsJITOptimizerDisabled == true)
            Console.Error.WriteLine("warning: this is a Debug build; measure a Release build (dotnet run -c Release --project src/ServerlessTune.Cli -- bench ...)");
    }

    static IEnumerable<Command> Benchmarks()
    {
        // one line per benchmark; keep alphabetical
        yield return BenchGenerateCommand.Create();
        yield return BenchPrepareCommand.Create();
        yield return BenchServeCommand.Create();
        yield return BenchTrainCommand.Create();
    }
}
