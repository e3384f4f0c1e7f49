using ServerlessTune.Azure.Storage;
using ServerlessTune.Core;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Workflow.Tests.Storage;

/// <summary>The behaviour every <see cref="IArtifactStore"/> owes the pipeline, run against each implementation.</summary>
public abstract class ArtifactStoreContract : IAsyncLifetime
{
    protected IArtifactStore Store { get; private set; } = null!;

    protected abstract Task<IArtifactStore> CreateStoreAsync();

    public async Task InitializeAsync() => Store = await CreateStoreAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    async Task<List<string>> ListAsync(string prefix)
    {
        var paths = new List<string>();
        await foreach (var item in Store.ListAsync(prefix)) paths.Add(item.Path);
        return paths;
    }

    [Fact]
    public async Task Written_text_reads_back_and_lists_in_ordinal_order()
    {
        await Store.WriteAllTextAsync("runs/r1/b.json", "{\"b\":1}");
        await Store.WriteAllTextAsync("runs/r1/a.json", "{\"a\":1}");
        await Store.WriteAllTextAsync("runs/r10/c.json", "c");
        await Store.WriteAllTextAsync("runs/r1/B.json", "upper");

        Assert.Equal("{\"a\":1}", await Store.ReadAllTextAsync("runs/r1/a.json"));
        Assert.Equal(new[] { "runs/r1/B.json", "runs/r1/a.json", "runs/r1/b.json" }, await ListAsync("runs/r1/"));
        var sizes = new List<long>();
        await foreach (var item in Store.ListAsync("runs/r10/")) sizes.Add(item.Size);
        Assert.Equal(new long[] { 1 }, sizes);
    }

    [Fact]
    public async Task Overwriting_replaces_the_content_and_delete_reports_whether_it_existed()
    {
        await Store.WriteAllTextAsync("registry/p/aliases.json", "first, longer content");
        await Store.WriteAllTextAsync("registry/p/aliases.json", "second");
        Assert.Equal("second", await Store.ReadAllTextAsync("registry/p/aliases.json"));
        Assert.True(await Store.ExistsAsync("registry/p/aliases.json"));
        Assert.True(await Store.DeleteAsync("registry/p/aliases.json"));
        Assert.False(await Store.DeleteAsync("registry/p/aliases.json"));
        Assert.False(await Store.ExistsAsync("registry/p/aliases.json"));
    }

    [Fact]
    public async Task A_failed_write_leaves_the_previous_content_and_nothing_else_listed()
    {
        await Store.WriteAllTextAsync("prepared/x/stats.json", "old");
        await Assert.ThrowsAsync<InvalidOperationException>(() => Store.WriteAsync("prepared/x/stats.json", async (s, ct) =>
        {
            await s.WriteAsync("partial"u8.ToArray(), ct);
            throw new InvalidOperationException("crash mid-write");
        }));
        await Assert.ThrowsAsync<InvalidOperationException>(() => Store.WriteAsync("prepared/x/new.json", async (s, ct) =>
        {
            await s.WriteAsync("partial"u8.ToArray(), ct);
            throw new InvalidOperationException("crash mid-write");
        }));
        Assert.Equal("old", await Store.ReadAllTextAsync("prepared/x/stats.json"));
        Assert.Equal(new[] { "prepared/x/stats.json" }, await ListAsync("prepared/x/"));
    }

    [Fact]
    public async Task Large_artifacts_written_in_many_pieces_read_back_byte_for_byte()
    {
        // Larger than one staged block (4 MiB) of the blob store, written in odd-sized pieces.
        var bytes = new byte[9 * 1024 * 1024 + 7];
        new Random(7).NextBytes(bytes);
        await Store.WriteAsync("runs/r/checkpoints/step-1/adapter_model.safetensors", async (s, ct) =>
        {
            for (int offset = 0; offset < bytes.Length; offset += 1_000_003)
                await s.WriteAsync(bytes.AsMemory(offset, Math.Min(1_000_003, bytes.Length - offset)), ct);
        });
        await using var read = await Store.OpenReadAsync("runs/r/checkpoints/step-1/adapter_model.safetensors");
        using var copy = new MemoryStream();
        await read.CopyToAsync(copy);
        Assert.Equal(bytes, copy.ToArray());
    }

    [Theory]
    [InlineData("../escape.txt")]
    [InlineData("datasets/../../etc/passwd")]
    [InlineData("/etc/passwd")]
    [InlineData("datasets\\..\\x")]
    [InlineData("datasets//x")]
    [InlineData("datasets/./x")]
    [InlineData("C:/x")]
    [InlineData("datasets/a\u0000b")]
    [InlineData("")]
    public async Task Paths_that_could_escape_the_root_are_refused(string path)
    {
        var error = await Assert.ThrowsAsync<UserInputException>(() => Store.WriteAllTextAsync(path, "x"));
        Assert.StartsWith("invalid artifact path", error.Message);
        await Assert.ThrowsAsync<UserInputException>(() => Store.ExistsAsync(path));
        Assert.Empty(await ListAsync(""));
    }

    [Fact]
    public async Task Reading_a_missing_artifact_names_it()
    {
        var error = await Assert.ThrowsAsync<ArtifactNotFoundException>(() => Store.ReadAllTextAsync("reports/r/report.json"));
        Assert.Contains("reports/r/report.json", error.Message);
    }

    [Fact]
    public async Task Folders_round_trip_through_upload_and_download()
    {
        string source = Directory.CreateTempSubdirectory("stune-upload-").FullName;
        string target = Directory.CreateTempSubdirectory("stune-download-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(source, "sub"));
            File.WriteAllBytes(Path.Combine(source, "model.safetensors"), new byte[] { 1, 2, 3 });
            File.WriteAllText(Path.Combine(source, "sub", "config.json"), "{}");
            Assert.Equal(2, await Store.UploadFolderAsync(source, "runs/r/merged"));
            Assert.Equal(2, await Store.DownloadFolderAsync("runs/r/merged", target));
            Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(Path.Combine(target, "model.safetensors")));
            Assert.Equal("{}", File.ReadAllText(Path.Combine(target, "sub", "config.json")));
        }
        finally
        {
            Directory.Delete(source, recursive: true);
            Directory.Delete(target, recursive: true);
        }
    }
}

public sealed class LocalFolderStoreContractTests : ArtifactStoreContract
{
    readonly string _root = Directory.CreateTempSubdirectory("stune-store-").FullName;

    protected override Task<IArtifactStore> CreateStoreAsync() => Task.FromResult<IArtifactStore>(new LocalFolderStore(_root));

    public override Task DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }
}

[Collection(AzuriteCollection.Name)]
public sealed class BlobArtifactStoreContractTests(AzuriteFixture azurite) : ArtifactStoreContract
{
    protected override async Task<IArtifactStore> CreateStoreAsync() => await azurite.NewStoreAsync();

    [Theory]
    [InlineData("Artifacts")]
    [InlineData("ab")]
    [InlineData("a--b")]
    [InlineData("../x")]
    public async Task Invalid_container_names_are_refused_before_any_request(string container)
    {
        var error = await Assert.ThrowsAsync<UserInputException>(() => BlobArtifactStore.ConnectAsync(azurite.ConnectionString, container));
        Assert.StartsWith($"invalid container name '{container}'", error.Message);
    }

    [Fact]
    public async Task Identity_needs_an_https_account_url()
    {
        var error = await Assert.ThrowsAsync<UserInputException>(() => BlobArtifactStore.ConnectAsync(new Uri("http://acct.blob.core.windows.net/"), "artifacts"));
        Assert.Equal("storage account URL 'http://acct.blob.core.windows.net/': use https with Azure identity", error.Message);
    }

    [Fact]
    public void The_location_names_the_container_without_credentials()
    {
        Assert.StartsWith("http://127.0.0.1:", Store.Location);
        Assert.Contains("/devstoreaccount1/test-", Store.Location);
        Assert.DoesNotContain("AccountKey", Store.Location);
    }
}
