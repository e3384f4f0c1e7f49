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
    /// <summary>The ServerlessTune.Trainer program from its build output, stopping when its parent goes (see <see cref="LocalProcessJobLauncher"/>).</summary>
    public static LocalTrainerCommand ForTrainerAssembly(string trainerDll, params string[] storeArguments) =>
        new("dotnet", [trainerDll, "{spec}", .. storeArguments.Length > 0 ? storeArguments : ["--store", "{store}"], "--stop-on-stdin-eof"]);
}

/// <summary>
/// Runs each job (training, evaluation) as a child process of this worker. The job's own error is the tail of its
/// stderr (the trainer prints one clear "error: ..." line before exiting non-zero).
/// A job never outlives this process: its standard input is a pipe whose only writer is this process, which never
/// writes to it. When this process ends in any way, SIGKILL included, the kernel closes that end and the trainer
/// (started with --stop-on-stdin-eof) reads end-of-file, checkpoints as on SIGTERM and exits. Unlike
/// PR_SET_PDEATHSIG, which fires when the forking thread exits (a .NET thread-pool thread may), this needs no native
/// code on either side, and the same close is how <see cref="StopAllAsync"/> asks a trainer to stop.
/// </summary>
public sealed class LocalProcessJobLauncher(LocalTrainerCommand command, string storeFolder) : IJobLauncher, IDisposable
{
    const int StderrLinesKept = 20;
    readonly ConcurrentDictionary<string, LocalJob> _jobs = new(StringComparer.Ordinal);

    public string Name => "local";

    public Task<JobHandle> StartAsync(JobSpec spec, string specPath, CancellationToken ct = default)
    {
        // Keyed by run and kind: a retried start returns the process already running (or finished) for that job; only
        // one that was interrupted (lost: it saved a checkpoint) is started again, which is what a relaunch asks.
        string key = Key(spec.RunId, spec.Kind);
        LocalJob job;
        lock (_jobs)
        {
            if (!_jobs.TryGetValue(key, out job!) || job.WasInterrupted)
            {
                job?.Process.Dispose();
                job = _jobs[key] = LocalJob.Start(Expand(specPath));
            }
        }
        return Task.FromResult(new JobHandle(spec.RunId, spec.Kind, Name, job.ExecutionId));
    }

    /// <summary>The trainer's exit code after a SIGTERM or a closed standard input: it saved a checkpoint and can be started again.</summary>
    public const int InterruptedExitCode = 130;

    public async Task<JobProgress> GetStatusAsync(JobHandle job, CancellationToken ct = default)
    {
        if (!_jobs.TryGetValue(Key(job.RunId, job.Kind), out var local) || local.ExecutionId != job.ExecutionId)
            return new JobProgress(JobState.Lost, Error: $"no trainer process {job.ExecutionId} in this worker (it was restarted)");
        if (!local.Process.HasExited) return new JobProgress(JobState.Running);
        // Exit is seen before the redirected output is drained; wait for the last lines, which carry the error.
        await local.Process.WaitForExitAsync(ct);
        int code = local.Process.ExitCode;
        return code switch
        {
            0 => new JobProgress(JobState.Succeeded),
            InterruptedExitCode => new JobProgress(JobState.Lost, Error: $"trainer {job.ExecutionId} was interrupted (it saved a checkpoint)"),
            _ => new JobProgress(JobState.Failed, Error: $"trainer exited with code {code}: {local.ErrorTail()}"),
        };
    }

    /// <summary>
    /// Asks every running job to stop (closes its standard input: a trainer checkpoints and exits) and waits up to
    /// <paramref name="grace"/> for them; whatever still runs then is killed.
    /// </summary>
    /// <returns>How many jobs were running.</returns>
    public async Task<int> StopAllAsync(TimeSpan grace)
    {
        var running = _jobs.Values.Where(j => !j.Process.HasExited).ToList();
        foreach (var job in running) job.CloseInput();
        using var timeout = new CancellationTokenSource(grace);
        foreach (var job in running)
        {
            try { await job.Process.WaitForExitAsync(timeout.Token); }
            catch (OperationCanceledException) { job.Process.Kill(entireProcessTree: true); }
        }
        return running.Count;
    }

    /// <summary>The process ids of the jobs started here, for checks that nothing outlives its parent.</summary>
    public IReadOnlyList<int> ProcessIds => _jobs.Values.Select(j => j.Process.Id).ToList();

    public Task StopAsync(JobHandle job, CancellationToken ct = default)
    {
        if (_jobs.TryGetValue(Key(job.RunId, job.Kind), out var local) && !local.Process.HasExited)
            local.Process.Kill(entireProcessTree: true);
        return Task.CompletedTask;
    }

    static string Key(string runId, string kind) => $"{runId}/{kind}";

    ProcessStartInfo Expand(string specPath)
    {
        var start = new ProcessStartInfo(command.FileName)
        {
            RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false,
        };
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
            // The write end stays open, unwritten, for the life of this process (the class comment says why).
            job.Process.BeginErrorReadLine();
            job.Process.BeginOutputReadLine();
            job.ExecutionId = $"pid-{job.Process.Id}";
            return job;
        }

        public bool WasInterrupted => Process.HasExited && Process.ExitCode == InterruptedExitCode;

        public void CloseInput()
        {
            try { Process.StandardInput.Close(); }
            catch (IOException) { } // the job exited and closed its end first
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
