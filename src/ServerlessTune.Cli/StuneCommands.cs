using System.CommandLine;
using ServerlessTune.Cli.Commands;

namespace ServerlessTune.Cli;

/// <summary>The command tree. Each command lives in Commands/, one file per command group.</summary>
internal static class StuneCommands
{
    public static IEnumerable<Command> All()
    {
        // one line per command group; keep alphabetical
        yield return BenchCommands.Create();
        yield return EvalCommands.Create();
        yield return GenerateCommands.CreateChat();
        yield return GenerateCommands.Create();
        yield return ModelCommands.Create();
        yield return MonitorCommands.Create();
        yield return PrepareCommands.Create();
        yield return RetrainCommands.Create();
        yield return RunCommands.Create();
        yield return ServeCommands.Create();
        yield return TokenizeCommands.Create();
        yield return TrainCommands.Create();
    }
}
