using System.Runtime.InteropServices;
using ServerlessTune.Core;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Training;

// stune-trainer <job-spec path in the store> [--store <folder>] [--work <folder>]
// The store defaults to $STUNE_STORE or the current folder. Exit codes: 0 done, 1 failed (job.json says why),
// 2 usage, 130 interrupted by SIGTERM/Ctrl-C after writing a checkpoint (a retry resumes from it).
string? spec = null, storeRoot = Environment.GetEnvironmentVariable("STUNE_STORE"), work = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--store" when i + 1 < args.Length: storeRoot = args[++i]; break;
        case "--work" when i + 1 < args.Length: work = args[++i]; break;
        case var a when !a.StartsWith("--") && spec is null: spec = a; break;
        default:
            Console.Error.WriteLine($"usage: unexpected argument '{args[i]}'");
            return 2;
    }
}
if (spec is null)
{
    Console.Error.WriteLine("usage: stune-trainer <job-spec path in the store> [--store <folder>] [--work <folder>]");
    return 2;
}
if (spec.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || spec.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
{
    Console.Error.WriteLine("error: blob URLs need the Blob artifact store (ServerlessTune.Pipeline); pass the spec's path inside --store");
    return 2;
}

using var stop = new CancellationTokenSource();
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
string workDirectory = work ?? Directory.CreateTempSubdirectory("stune-trainer-").FullName;
try
{
    var job = new TrainerJob(new LocalFolderStore(storeRoot ?? Directory.GetCurrentDirectory()), workDirectory);
    var status = await job.RunAsync(spec, message => Console.Error.WriteLine(message), new StepLogger(), stop.Token);
    Console.Error.WriteLine($"job {status.RunId}: {status.Status}");
    return status.Status == JobStatus.Interrupted ? 130 : 0;
}
catch (UserInputException ex)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}
catch (Exception ex)
{
    Console.Error.WriteLine($"error: training failed: {ex}");
    return 1;
}
finally
{
    if (work is null) Directory.Delete(workDirectory, recursive: true);
}

/// <summary>Container logs are line-based: one line per tenth of the run.</summary>
sealed class StepLogger : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress p)
    {
        if (p.IsMilestone) Console.Error.WriteLine(p);
    }
}
