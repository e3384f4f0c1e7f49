using Azure.Identity;
using Azure.Storage.Blobs;
using ServerlessTune.Core;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Azure.Storage;

/// <summary>
/// How a training job finds the run's store: a local folder (--store); a blob container (--container) whose
/// connection string comes from the environment, so that a key never appears on a command line; or a
/// container URL (--container-url) opened with the job's managed identity, as the Azure job does.
/// </summary>
public static class TrainerStore
{
    public const string ConnectionVariable = "STUNE_STORAGE_CONNECTION";
    public const string FolderVariable = "STUNE_STORE";

    public static async Task<IArtifactStore> OpenAsync(string? folder, string? container, string? containerUrl, CancellationToken ct = default)
    {
        if (new[] { folder, container, containerUrl }.Count(s => s is not null) > 1)
            throw new UserInputException("--store, --container and --container-url exclude each other");
        if (containerUrl is not null)
        {
            if (!Uri.TryCreate(containerUrl, UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http"))
                throw new UserInputException($"--container-url '{containerUrl}': not an http(s) URL");
            return new BlobArtifactStore(new BlobContainerClient(url, new DefaultAzureCredential()));
        }
        if (container is null)
            return new LocalFolderStore(folder ?? Environment.GetEnvironmentVariable(FolderVariable) ?? Directory.GetCurrentDirectory());
        string connection = Environment.GetEnvironmentVariable(ConnectionVariable)
            ?? throw new UserInputException($"--container {container}: set {ConnectionVariable} to the storage connection string");
        return await BlobArtifactStore.ConnectAsync(connection, container, ct);
    }
}
