using System.Collections.Concurrent;
using System.Diagnostics;
using ServerlessTune.Core.Jobs;

namespace ServerlessTune.Workflow.Jobs;

/// <summary>
/// How to run the trainer program (the job container's program) locally. Arguments may hold {spec} (the spec's path in the store) and {store}
/// (the store's folder), e.g. dotnet stune-trainer.dll {spec} --store {store}.
/// </summary>
public sealed record LocalTrainerCommand(string FileName, IReadOnlyList<string> Arguments)
{
    /// <summary>The ServerlessTune.Trainer program from its build output.</summary>
    public static LocalTrainerCommand ForTrainerAssembly(string trainerDll) =>
        new("dotnet", [trainerDll, "{spec}", "--store", "{store}"]);
}

/// <summary>
/// Runs each job (training, evaluation) as a child process of this worker. The job's own error is the tail of its
/// stderr (the trainer prints one clear "error: ..." line before exiting non-zero).
/// </summary>
public sealed class LocalProcessJobLauncher(LocalTrainerCommand command, string storeFolder) : IJobLauncher, IDisposable
{
    const int StderrLinesKept = 20;
    readonly ConcurrentDictionary<string, LocalJob> _jobs = new(StringComparer.Ordinal);

    public string Name => "local";

    public Task<JobHandle> StartAsync(JobSpec spec, string specPath, CancellationToken ct = default)
    {
        // Keyed by run and kind: a retried start returns the process already running (or finished) for that job.
        var job = _jobs.GetOrAdd(Key(spec.RunId, spec.Kind), _ => LocalJob.Start(Expand(specPath)));
        return Task.FromResult(new JobHandle(spec.RunId, spec.Kind, Name, job.ExecutionId));
    }

    public async Task<JobProgress> GetStatusAsync(JobHandle job, CancellationToken ct = default)
    {
        if (!_jobs.TryGetValue(Key(job.RunId, job.Kind), out var local) || local.ExecutionId != job.ExecutionId)
            return new JobProgress(JobState.Lost, Error: $"no trainer process {job.ExecutionId} in this worker (it was restarted)");
        if (!local.Process.HasExited) return new JobProgress(JobState.Running);
        // Exit is seen before the redirected output is drained; wait for the last lines, which carry the error.
        await local.Process.WaitForExitAsync(ct);
        int code = local.Process.ExitCode;
        return code == 0
            ? new JobProgress(JobState.Succeeded)
            : new JobProgress(JobState.Failed, Error: $"trainer exited with code {code}: {local.ErrorTail()}");
    }

    public Task StopAsync(JobHandle job, CancellationToken ct = default)
    {
        if (_jobs.TryGetValue(Key(job.RunId, job.Kind), out var local) && !local.Process.HasExited)
            local.Process.Kill(entireProcessTree: true);
        return Task.CompletedTask;
    }

    static string Key(string runId, string kind) => $"{runId}/{kind}";

    ProcessStartInfo Expand(string specPath)
    {
        var start = new ProcessStartInfo(command.FileName) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in command.Arguments)
            start.ArgumentList.Add(argument.Replace("{spec}", specPath).Replace("{store}", storeFolder));
        return start;
    }

    public void Dispose()
    {
        foreach (var job in _jobs.Values)
        {
            if (!job.Process.HasExited) job.Process.Kill(entireProcessTree: true);
            job.Process.Dispose();
        }
    }

    sealed class LocalJob
    {
        readonly Queue<string> _stderr = new();

        LocalJob(Process process) => Process = process;

        public Process Process { get; }
        public string ExecutionId { get; private set; } = "";

        public static LocalJob Start(ProcessStartInfo start)
        {
            var job = new LocalJob(new Process { StartInfo = start });
            job.Process.ErrorDataReceived += (_, e) => job.Keep(e.Data);
            job.Process.OutputDataReceived += (_, _) => { };
            job.Process.Start();
            job.Process.BeginErrorReadLine();
            job.Process.BeginOutputReadLine();
            job.ExecutionId = $"pid-{job.Process.Id}";
            return job;
        }

        void Keep(string? line)
        {
            if (string.IsNullOrWhiteSpace(line)) return;
            lock (_stderr)
            {
                _stderr.Enqueue(line.Trim());
                if (_stderr.Count > StderrLinesKept) _stderr.Dequeue();
            }
        }

        /// <summary>The trainer's "error: ..." lines if it printed any, else its last line.</summary>
        public string ErrorTail()
        {
            lock (_stderr)
            {
                var errors = _stderr.Where(l => l.StartsWith("error", StringComparison.OrdinalIgnoreCase)).ToList();
                return errors.Count > 0 ? string.Join(" | ", errors) : _stderr.LastOrDefault() ?? "(no output)";
            }
        }
    }
}
