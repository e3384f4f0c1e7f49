using ServerlessTune.Azure.Storage;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Cli.Commands;

/// <summary>
/// Where `stune run` and `stune retrain` work: a local folder store, or a blob container (with the Durable Task hub of the
/// same account keeping the orchestration, named after the container).
/// </summary>
internal sealed record RunStore(IArtifactStore Artifacts, string? ConnectionString, string Container)
{
    public const string DefaultContainer = "stune";

    /// <param name="connection">--connection; without it $STUNE_STORAGE_CONNECTION, and without that the folder.</param>
    public static async Task<RunStore> OpenAsync(string? folder, string? connection, string container, CancellationToken ct)
    {
        string? connectionString = connection ?? Environment.GetEnvironmentVariable(TrainerStore.ConnectionVariable);
        IArtifactStore artifacts = connectionString is null
            ? new LocalFolderStore(folder ?? ".stune")
            : await BlobArtifactStore.ConnectAsync(connectionString, container, ct);
        return new RunStore(artifacts, connectionString, container);
    }
}
