using Azure.Storage.Blobs;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using ServerlessTune.Core;
using ServerlessTune.Core.Storage;
using ServerlessTune.Workflow.Api;

namespace ServerlessTune.Functions;

/// <summary>
/// Starts a run when datasets/{project}/pipeline.json or datasets/{project}/_ready lands, so a multi-file
/// upload (data first, marker last) starts one run, and both markers of one upload start one run, whenever the
/// second event arrives. While a run of the project is going, another upload starts none: the log says which run
/// holds the project. Event Grid delivers the
/// event: Flex Consumption has no polling blob trigger.
/// </summary>
public sealed class DatasetTrigger(IArtifactStore store, ILogger<DatasetTrigger> logger)
{
    [Function(nameof(DatasetTrigger))]
    public async Task Run(
        [BlobTrigger("%STUNE_CONTAINER%/datasets/{project}/{name}", Source = BlobTriggerSource.EventGrid, Connection = "STUNE_STORAGE")] BlobClient blob,
        string project, string name, [DurableClient] DurableTaskClient client, CancellationToken ct)
    {
        try
        {
            var start = await new RunStarter(client, store).StartForBlobAsync(project, name, ct);
            if (start is null) logger.LogInformation("datasets/{Project}/{Name}: not a start marker, no run started", project, name);
            else if (start.Started) logger.LogInformation("datasets/{Project}/{Name}: run {RunId}", project, name, start.RunId);
            else logger.LogInformation("datasets/{Project}/{Name}: no run started: this upload already started run {RunId}", project, name, start.RunId);
        }
        catch (UserInputException e)
        {
            // A bad project name or pipeline.json is the user's to fix; retrying the event would fail the same way.
            logger.LogError("datasets/{Project}/{Name}: no run started: {Reason}", project, name, e.Message);
        }
        catch (ApiError e)
        {
            // The project is held by a run that is going (this upload's other marker, or an earlier upload's run).
            logger.LogWarning("datasets/{Project}/{Name}: no run started: {Reason}", project, name, e.Message);
        }
    }
}
