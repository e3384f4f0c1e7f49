using DurableTask.AzureStorage;
using Microsoft.Extensions.Logging;
using ServerlessTune.Workflow.Runner;

namespace ServerlessTune.Cli.Commands;

/// <summary>
/// The Durable Task Azure Storage backend for `stune run --connection`: the orchestration's history, queues and
/// partition leases in the storage account that holds the artifacts, so a killed `stune run` started again continues
/// the same orchestration instance, as a Functions host restart does in Azure. It lives here, not in the Azure
/// project, because the job container references that project and must carry no Durable Task assembly.
/// </summary>
internal static class DurableStorage
{
    public static DurableBackend Backend(string connectionString, string container, ILoggerFactory loggers)
    {
        string hub = TaskHubName(container);
        var service = new AzureStorageOrchestrationService(new AzureStorageOrchestrationServiceSettings
        {
            StorageAccountClientProvider = new StorageAccountClientProvider(connectionString),
            TaskHubName = hub,
            LoggerFactory = loggers,
            // One worker process: one partition, and a unique worker id so a restarted process takes the dead one's
            // lease as soon as it expires (short leases: a restart waits seconds, not the default half minute).
            PartitionCount = 1,
            WorkerId = $"stune-{Environment.MachineName}-{Environment.ProcessId}",
            UseAppLease = false,
            LeaseInterval = TimeSpan.FromSeconds(8),
            LeaseRenewInterval = TimeSpan.FromSeconds(2),
            LeaseAcquireInterval = TimeSpan.FromSeconds(2),
            // A message a killed process had dequeued reappears after its visibility timeout. Orchestration episodes
            // take milliseconds; an activity message stays hidden while the activity runs (the embedded dispatcher
            // does not renew it), so it must outlast the longest step that runs here (data preparation, a download).
            ControlQueueVisibilityTimeout = TimeSpan.FromSeconds(20),
            WorkItemQueueVisibilityTimeout = TimeSpan.FromMinutes(2),
            // Idle polling backs off to this; the default 30 s would add up to 30 s to every step of a local run.
            MaxQueuePollingInterval = TimeSpan.FromSeconds(1),
        });
        return new DurableBackend(service, service, Persistent: true, $"Durable Task hub '{hub}' (Azure Storage)");
    }

    /// <summary>Task hub names are 3-45 letters and digits starting with a letter; container names may hold hyphens.</summary>
    static string TaskHubName(string container)
    {
        string name = new(container.Where(char.IsAsciiLetterOrDigit).ToArray());
        if (name.Length < 3 || !char.IsAsciiLetter(name[0])) name = "stune" + name;
        return name.Length > 45 ? name[..45] : name;
    }
}
