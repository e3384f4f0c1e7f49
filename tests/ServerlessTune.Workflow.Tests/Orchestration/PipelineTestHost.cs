using System.Net.Sockets;
using Microsoft.DurableTask.Testing;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Jobs;

namespace ServerlessTune.Workflow.Tests.Orchestration;

/// <summary>
/// The pipeline on Durable Task's in-process test host. The host picks its gRPC port at random between 30000 and
/// 40000, which overlaps Linux's ephemeral range (32768-60999): when an outgoing connection of another test holds
/// that port the start fails with "address already in use", so another random port is tried.
/// </summary>
static class PipelineTestHost
{
    const int Attempts = 5;

    public static async Task<DurableTaskTestHost> StartAsync(IArtifactStore store, IJobLauncher launcher)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await DurableTaskTestHost.StartAsync(
                    registry => PipelineTasks.Register(registry),
                    new DurableTaskTestHostOptions { ConfigureServices = services => services.AddPipelineServices(store, launcher) });
            }
            catch (IOException ex) when (attempt < Attempts && ex.GetBaseException() is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse })
            {
            }
        }
    }
}
