using Microsoft.DurableTask;
using ServerlessTune.Core;

namespace ServerlessTune.Workflow;

/// <summary>
/// Retries transient failures (storage hiccups, a job that could not start) with exponential backoff.
/// A user error (bad data, bad config, missing file) fails the same way every time, so it is never retried.
/// </summary>
public static class PipelineRetry
{
    public static TaskOptions Transient(TimingOptions timing) => TaskOptions.FromRetryPolicy(
        new RetryPolicy(timing.RetryMaxAttempts, TimeSpan.FromSeconds(timing.RetryFirstSeconds), backoffCoefficient: 2,
            maxRetryInterval: TimeSpan.FromMinutes(5))
        {
            HandleFailure = failure => IsTransient(failure),
        });

    public static bool IsTransient(TaskFailureDetails failure) => !failure.IsCausedBy<UserInputException>();
}
