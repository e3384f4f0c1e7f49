using System.CommandLine;
using ServerlessTune.Cli;
using ServerlessTune.Core;

// stdout carries only a command's result; progress and errors go to stderr.
// Exit codes: 0 success, 1 bad user input or a failure (one line naming it), 2 usage error, 130 interrupted.
var root = new RootCommand("ServerlessTune: build, evaluate and serve your own chatbot model.");
foreach (var command in StuneCommands.All())
    root.Subcommands.Add(command);

var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors)
        Console.Error.WriteLine($"usage: {error.Message}");
    return 2;
}
try
{
    // No termination timeout: on SIGTERM a trainer finishes its step and writes a checkpoint, however long that takes.
    return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
}
catch (UserInputException ex)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("cancelled");
    return 130;
}
catch (Exception ex) when (Environment.GetEnvironmentVariable("STUNE_DEBUG") is not "1")
{
    // Anything the commands did not turn into a UserInputException still ends in one line, never a stack trace.
    Console.Error.WriteLine($"error: {ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")} (STUNE_DEBUG=1 shows where)");
    return 1;
}
