using System.Runtime.CompilerServices;
using Azure;
using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using ServerlessTune.Core;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Azure.Storage;

/// <summary>
/// Artifacts as block blobs in one container (Azure Storage or Azurite).
/// Writes stage blocks and commit the block list only when the writer finished: staged blocks are
/// invisible to readers and Put Block List replaces the blob in one step, so readers see the old or the
/// complete new content. A copy from a temporary blob would not be: a server-side copy of a large blob
/// runs asynchronously and a crash between copy and delete leaves a stray blob other steps could list.
/// </summary>
public sealed class BlobArtifactStore : IArtifactStore
{
    readonly BlobContainerClient _container;

    public BlobArtifactStore(BlobContainerClient container)
    {
        _container = container;
        // The URI of a SAS connection string carries the signature: keep it out of messages and logs.
        Location = new UriBuilder(container.Uri) { Query = "" }.Uri.ToString();
    }

    /// <summary>Connects with a connection string (Azurite: "UseDevelopmentStorage=true") and creates the container if needed.</summary>
    public static Task<BlobArtifactStore> ConnectAsync(string connectionString, string containerName, CancellationToken ct = default) =>
        CreateAsync(new BlobContainerClient(connectionString, ValidContainer(containerName)), ct);

    /// <summary>Connects to a container of https://{account}.blob.core.windows.net/ with Azure identity (DefaultAzureCredential unless given).</summary>
    public static Task<BlobArtifactStore> ConnectAsync(Uri accountUrl, string containerName, TokenCredential? credential = null, CancellationToken ct = default)
    {
        // Bearer tokens only travel over TLS (the SDK refuses otherwise): say so before any request.
        if (accountUrl.Scheme != Uri.UriSchemeHttps)
            throw new UserInputException($"storage account URL '{accountUrl.GetLeftPart(UriPartial.Path)}': use https with Azure identity");
        var containerUrl = new Uri(new Uri(accountUrl.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/"), ValidContainer(containerName));
        return CreateAsync(new BlobContainerClient(containerUrl, credential ?? new DefaultAzureCredential()), ct);
    }

    static async Task<BlobArtifactStore> CreateAsync(BlobContainerClient container, CancellationToken ct)
    {
        await container.CreateIfNotExistsAsync(cancellationToken: ct);
        return new BlobArtifactStore(container);
    }

    static string ValidContainer(string name)
    {
        // Azure's container rule: 3-63 lower-case letters, digits and single hyphens, starting with a letter or digit.
        bool ok = name.Length is >= 3 and <= 63 && char.IsAsciiLetterOrDigit(name[0]) && !name.Contains("--")
                  && name.All(c => char.IsAsciiDigit(c) || char.IsAsciiLetterLower(c) || c == '-') && !name.EndsWith('-');
        return ok ? name : throw new UserInputException($"invalid container name '{name}': use 3-63 lower-case letters, digits and single hyphens");
    }

    public string Location { get; }

    public async Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default) =>
        await Blob(path).ExistsAsync(cancellationToken);

    public async Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken = default)
    {
        try
        {
            // OpenRead pins the blob's ETag, so a concurrent overwrite fails the read instead of mixing versions.
            return await Blob(path).OpenReadAsync(new BlobOpenReadOptions(allowModifications: false), cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new ArtifactNotFoundException(path, Location);
        }
    }

    public async Task WriteAsync(string path, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken = default)
    {
        var blob = _container.GetBlockBlobClient(ArtifactPath.Validate(path));
        await using var staging = new BlockStagingStream(blob);
        await write(staging, cancellationToken);
        await staging.CommitAsync(cancellationToken);
    }

    public async IAsyncEnumerable<ArtifactInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (prefix.Length > 0) ArtifactPath.Validate(prefix.TrimEnd('/'));
        // The service lists in lexicographic name order, which is the store contract's ordinal order.
        await foreach (var item in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }, cancellationToken))
            yield return new ArtifactInfo(item.Name, item.Properties.ContentLength ?? 0,
                item.Properties.LastModified ?? DateTimeOffset.MinValue);
    }

    public async Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default) =>
        await Blob(path).DeleteIfExistsAsync(cancellationToken: cancellationToken);

    BlobClient Blob(string path) => _container.GetBlobClient(ArtifactPath.Validate(path));
}
