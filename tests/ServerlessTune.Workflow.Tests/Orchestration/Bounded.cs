using System.Diagnostics;
using Microsoft.DurableTask.Client;

namespace ServerlessTune.Workflow.Tests.Orchestration;

/// <summary>Waits with an upper bound: a regression that hangs fails its test saying what it waited for, instead of hanging CI.</summary>
public static class Bounded
{
    public static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    /// <summary>The run's end, or a failure with its last status after <see cref="Limit"/>.</summary>
    public static async Task<OrchestrationMetadata> CompletionAsync(DurableTaskClient client, string runId, bool getInputsAndOutputs = false)
    {
        using var bound = new CancellationTokenSource(Limit);
        try
        {
            return await client.WaitForInstanceCompletionAsync(runId, getInputsAndOutputs, bound.Token);
        }
        catch (OperationCanceledException) when (bound.IsCancellationRequested)
        {
            var run = await client.GetInstanceAsync(runId, getInputsAndOutputs: true);
            throw new TimeoutException($"run {runId} did not end within {Limit}: {run?.RuntimeStatus} {run?.SerializedCustomStatus}");
        }
    }

    /// <summary>Polls until <paramref name="done"/> holds of what <paramref name="poll"/> returns; fails naming <paramref name="what"/> and the last value.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> poll, Func<T, bool> done, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await poll();
            if (done(value)) return value;
            if (clock.Elapsed > Limit) throw new TimeoutException($"{what}: not within {Limit}; last seen: {value}");
            await Task.Delay(20);
        }
    }
}
