using System.Runtime.InteropServices;
using ServerlessTune.Azure.Storage;
using ServerlessTune.Core;
using ServerlessTune.Core.Jobs;
using ServerlessTune.Core.Training;

// stune-trainer <job-spec path in the store> [--store <folder> | --container <name> | --container-url <url>] [--work <folder>]
// The job container's program: runs the job the spec names (training or model evaluation; both need libtorch).
// The store is a folder (default $STUNE_STORE or the current folder); a blob container whose connection string
// is read from $STUNE_STORAGE_CONNECTION, never from the command line; or a container URL opened with the job's
// managed identity, as the Azure Container Apps job runs it.
// Exit codes: 0 done, 1 failed (the job's status.json says why), 2 usage, 130 interrupted by SIGTERM/Ctrl-C (a
// training job writes a checkpoint first; a retry resumes from it, or from the families an evaluation wrote).
string? spec = null, storeRoot = null, container = null, containerUrl = null, work = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--store" when i + 1 < args.Length: storeRoot = args[++i]; break;
        case "--container" when i + 1 < args.Length: container = args[++i]; break;
        case "--container-url" when i + 1 < args.Length: containerUrl = args[++i]; break;
        case "--work" when i + 1 < args.Length: work = args[++i]; break;
        case var a when !a.StartsWith("--") && spec is null: spec = a; break;
        default:
            Console.Error.WriteLine($"usage: unexpected argument '{args[i]}'");
            return 2;
    }
}
if (spec is null)
{
    Console.Error.WriteLine("usage: stune-trainer <job-spec path in the store> [--store <folder> | --container <name> | --container-url <url>] [--work <folder>]");
    return 2;
}

using var stop = new CancellationTokenSource();
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
string workDirectory = work ?? Directory.CreateTempSubdirectory("stune-trainer-").FullName;
try
{
    var job = new JobRunner(await TrainerStore.OpenAsync(storeRoot, container, containerUrl, stop.Token), workDirectory);
    var status = await job.RunAsync(spec, message => Console.Error.WriteLine(message), new StepLogger(), stop.Token);
    Console.Error.WriteLine($"{status.Kind} job {status.RunId}: {status.Status}");
    return status.Status == JobStatus.Interrupted ? 130 : 0;
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    Console.Error.WriteLine("interrupted");
    return 130;
}
catch (UserInputException ex)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}
catch (Exception ex)
{
    Console.Error.WriteLine($"error: job failed: {ex}");
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
