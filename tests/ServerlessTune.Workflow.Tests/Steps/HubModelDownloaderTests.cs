using System.Net;
using System.Net.Sockets;
using ServerlessTune.Core;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Storage;
using ServerlessTune.Workflow.Steps;

namespace ServerlessTune.Workflow.Tests.Steps;

/// <summary>
/// The hub download code against a loopback server that answers like the hub's resolve endpoint
/// (/{org}/{name}/resolve/{revision}/{file}, 404 for absent files), serving a real sharded checkpoint.
/// </summary>
public sealed class HubModelDownloaderTests : IDisposable
{
    readonly string _scratch = Directory.CreateTempSubdirectory("stune-hub-").FullName;
    readonly string _repoFolder;
    readonly LocalFolderStore _store;
    readonly HttpListener _listener = new();
    readonly List<(string Path, string? Authorization)> _requests = [];
    readonly string _endpoint;

    public HubModelDownloaderTests()
    {
        _repoFolder = Path.Combine(_scratch, "repo");
        ModelInitializer.Run("llama", "tiny", _repoFolder, seed: 3);
        // Re-save in shards so the index path is exercised too.
        using (var model = Checkpoint.Load(_repoFolder))
        {
            File.Delete(Path.Combine(_repoFolder, "model.safetensors"));
            Checkpoint.Save(model, _repoFolder, maxShardBytes: 400_000);
        }
        _store = new LocalFolderStore(Path.Combine(_scratch, "store"));
        int port = FreePort();
        _endpoint = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(_endpoint + "/");
        _listener.Start();
        _ = ServeAsync();
    }

    public void Dispose()
    {
        _listener.Close();
        Directory.Delete(_scratch, recursive: true);
    }

    [Fact]
    public async Task A_sharded_repository_downloads_into_the_store_and_loads_bit_exact()
    {
        var downloader = new HubModelDownloader(new HttpClient(), _store, _endpoint, token: "hf_secret");
        var files = await downloader.DownloadAsync("acme/tiny-llama@v1", "models/hub/acme/tiny-llama/v1");

        Assert.Contains("model.safetensors.index.json", files);
        Assert.True(files.Count(f => f.StartsWith("model-0000", StringComparison.Ordinal)) >= 2);
        foreach (var file in files)
            Assert.Equal(File.ReadAllBytes(Path.Combine(_repoFolder, file)),
                File.ReadAllBytes(Path.Combine(_store.Location, "models/hub/acme/tiny-llama/v1", file)));
        lock (_requests)
        {
            Assert.All(_requests, r => Assert.StartsWith("/acme/tiny-llama/resolve/v1/", r.Path));
            Assert.All(_requests, r => Assert.Equal("Bearer hf_secret", r.Authorization));
        }

        using var original = Checkpoint.Load(_repoFolder);
        using var downloaded = Checkpoint.Load(Path.Combine(_store.Location, "models/hub/acme/tiny-llama/v1"));
        var a = original.state_dict();
        var b = downloaded.state_dict();
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var key in a.Keys) Assert.Equal(a[key].data<float>().ToArray(), b[key].data<float>().ToArray());
    }

    [Fact]
    public async Task A_repository_without_config_is_refused_by_name()
    {
        File.Delete(Path.Combine(_repoFolder, "config.json"));
        var downloader = new HubModelDownloader(new HttpClient(), _store, _endpoint, token: null);
        var error = await Assert.ThrowsAsync<UserInputException>(() => downloader.DownloadAsync("acme/tiny-llama", "models/hub/x"));
        Assert.Equal("base_model 'acme/tiny-llama': the repository has no config.json (is it a Transformers model?)", error.Message);
    }

    [Fact]
    public async Task An_index_naming_a_shard_outside_the_folder_is_refused()
    {
        File.WriteAllText(Path.Combine(_repoFolder, "model.safetensors.index.json"),
            """{"metadata":{},"weight_map":{"lm_head.weight":"../../etc/passwd.safetensors"}}""");
        var downloader = new HubModelDownloader(new HttpClient(), _store, _endpoint, token: null);
        var error = await Assert.ThrowsAsync<UserInputException>(() => downloader.DownloadAsync("acme/tiny-llama", "models/hub/y"));
        Assert.Contains("invalid shard '../../etc/passwd.safetensors'", error.Message);
    }

    [Theory]
    [InlineData("HuggingFaceTB/SmolLM2-135M", true)]
    [InlineData("Qwen/Qwen2.5-0.5B-Instruct@main", true)]
    [InlineData("../secrets/x", false)]
    [InlineData("org/name/extra", false)]
    [InlineData("init:llama-tiny", false)]
    public void Hub_ids_are_recognised_strictly(string spec, bool isHubId) =>
        Assert.Equal(isHubId, HubModelDownloader.Parse(spec) is not null);

    async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception) { return; }
            string path = context.Request.Url!.AbsolutePath;
            lock (_requests) _requests.Add((path, context.Request.Headers["Authorization"]));
            string file = Path.Combine(_repoFolder, path.Split('/').Last());
            if (File.Exists(file))
            {
                var bytes = await File.ReadAllBytesAsync(file);
                context.Response.ContentLength64 = bytes.Length;
                await context.Response.OutputStream.WriteAsync(bytes);
            }
            else context.Response.StatusCode = 404;
            context.Response.Close();
        }
    }

    static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
