using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using ServerlessTune.Core.Storage;
using ServerlessTune.Workflow.Api;

namespace ServerlessTune.Functions;

/// <summary>
/// On the schedule of the app setting STUNE_RETRAIN_SCHEDULE (infra/ sets it, by default hourly), starts a run for each
/// project with at least feedback.retrain_after conversations rated since its last run read the logs: the check and
/// the start are <see cref="RetrainService"/>'s, as `stune retrain`'s are; a project whose run is still going waits.
/// </summary>
public sealed class RetrainTimer(IArtifactStore store, ILogger<RetrainTimer> logger)
{
    [Function(nameof(RetrainTimer))]
    public async Task Run([TimerTrigger("%" + FunctionAppOptions.RetrainScheduleSetting + "%")] TimerInfo timer,
        [DurableClient] DurableTaskClient client, CancellationToken ct)
    {
        var queries = new RunQueries(client);
        var starter = new RunStarter(client, store);
        var outcomes = await new RetrainService(store, queries.GoingRunAsync)
            .StartDueAsync((check, token) => starter.StartAsync(check.Project, check.Options, ct: token), ct: ct);
        foreach (var (check, runId) in outcomes)
            if (runId is null) logger.LogInformation("{Project}: no run: {Reason}", check.Project, check.Reason);
            else logger.LogInformation("{Project}: run {RunId} started: {Reason}", check.Project, runId, check.Reason);
    }
}
