using ServerlessTune.Core;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Pipeline.Storage;

/// <summary>
/// How a training job finds the run's store: a local folder (--store), or a blob container (--container)
/// whose connection string comes from the environment, so that a key never appears on a command line.
/// </summary>
public static class TrainerStore
{
    public const string ConnectionVariable = "STUNE_STORAGE_CONNECTION";
    public const string FolderVariable = "STUNE_STORE";

    public static async Task<IArtifactStore> OpenAsync(string? folder, string? container, CancellationToken ct = default)
    {
        if (container is null)
            return new LocalFolderStore(folder ?? Environment.GetEnvironmentVariable(FolderVariable) ?? Directory.GetCurrentDirectory());
        if (folder is not null) throw new UserInputException("--store and --container exclude each other");
        string connection = Environment.GetEnvironmentVariable(ConnectionVariable)
            ?? throw new UserInputException($"--container {container}: set {ConnectionVariable} to the storage connection string");
        return await BlobArtifactStore.ConnectAsync(connection, container, ct);
    }
}
