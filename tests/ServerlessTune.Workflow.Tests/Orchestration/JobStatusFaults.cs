using System.Collections.Concurrent;
using Microsoft.DurableTask;
using ServerlessTune.Core;
using ServerlessTune.Core.Jobs;
using ServerlessTune.Workflow.Jobs;

namespace ServerlessTune.Workflow.Tests.Orchestration;

/// <summary>
/// TEST-ONLY: the real job status activity with faults injected before it runs, registered under its name so the
/// orchestrator's retry rules are exercised: the first calls for each job throw an IOException (transient), or
/// every call throws a UserInputException (never retried).
/// </summary>
[DurableTask(PipelineNames.GetJobStatus)]
public sealed class FaultyJobStatus(RunJobs jobs, JobStatusFaults faults) : TaskActivity<JobHandle, JobProgress>
{
    public override Task<JobProgress> RunAsync(TaskActivityContext context, JobHandle job)
    {
        faults.Inject(job);
        return jobs.GetStatusAsync(job);
    }
}

/// <param name="TransientFailuresPerJob">IOExceptions thrown by each job's first status calls.</param>
/// <param name="UserError">Thrown as a UserInputException on every call when set.</param>
public sealed class JobStatusFaults(int TransientFailuresPerJob = 0, string? UserError = null)
{
    readonly ConcurrentDictionary<string, int> _calls = new();

    /// <summary>Status calls by job kind.</summary>
    public IReadOnlyDictionary<string, int> Calls => _calls;

    public void Inject(JobHandle job)
    {
        int call = _calls.AddOrUpdate(job.Kind, 1, (_, n) => n + 1);
        if (UserError is not null) throw new UserInputException(UserError);
        if (call <= TransientFailuresPerJob) throw new IOException($"injected transient failure {call} of the {job.Kind} job's status");
    }
}
