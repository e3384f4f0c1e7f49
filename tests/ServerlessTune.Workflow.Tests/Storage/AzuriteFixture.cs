using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using ServerlessTune.Azure.Storage;

namespace ServerlessTune.Workflow.Tests.Storage;

/// <summary>
/// A real Azurite from the repository's node_modules: its blob, queue and table services (the Durable Task Azure
/// Storage backend needs all three) on free loopback ports with a temporary data folder, stopped when the tests end.
/// Missing Azurite fails the tests (never skips them).
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    // Azurite's documented, public development account; not a secret.
    const string DevAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    readonly string _data = Directory.CreateTempSubdirectory("stune-azurite-").FullName;
    Process? _process;
    int _containers;

    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        string repo = RepositoryRoot();
        string azurite = Path.Combine(repo, "node_modules", "azurite", "dist", "src", "azurite.js");
        if (!File.Exists(azurite))
            throw new InvalidOperationException($"Azurite is not installed ({azurite} is missing): run `npm ci` at the repository root ({repo}).");
        int[] ports = FreeLoopbackPorts();
        int blob = ports[0], queue = ports[1], table = ports[2];
        var start = new ProcessStartInfo("node")
        {
            ArgumentList =
            {
                azurite, "--blobHost", "127.0.0.1", "--blobPort", blob.ToString(), "--queueHost", "127.0.0.1", "--queuePort", queue.ToString(),
                "--tableHost", "127.0.0.1", "--tablePort", table.ToString(), "--location", _data, "--silent", "--skipApiVersionCheck",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start node for Azurite");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        foreach (int port in new[] { blob, queue, table }) await WaitUntilListeningAsync(port);
        ConnectionString = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DevAccountKey};" +
                           $"BlobEndpoint=http://127.0.0.1:{blob}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{queue}/devstoreaccount1;" +
                           $"TableEndpoint=http://127.0.0.1:{table}/devstoreaccount1;";
    }

    /// <summary>A store on a fresh container, so tests sharing the service never see each other's blobs.</summary>
    public async Task<BlobArtifactStore> NewStoreAsync() => (await NewContainerAsync()).Store;

    /// <summary>A store on a new container, and the container's name (for a trainer process that opens it itself).</summary>
    public async Task<(BlobArtifactStore Store, string Container)> NewContainerAsync()
    {
        string name = $"test-{Interlocked.Increment(ref _containers)}";
        return (await BlobArtifactStore.ConnectAsync(ConnectionString, name), name);
    }

    // Node starts Azurite in about a second alone, but far slower on a machine busy with parallel test runs.
    static readonly TimeSpan StartLimit = TimeSpan.FromMinutes(2);

    async Task WaitUntilListeningAsync(int port)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < StartLimit)
        {
            if (_process!.HasExited)
                throw new InvalidOperationException($"Azurite exited with code {_process.ExitCode} before listening on port {port}");
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) { await Task.Delay(100); }
        }
        throw new InvalidOperationException($"Azurite did not listen on port {port} within {StartLimit.TotalSeconds:F0} s");
    }

    /// <summary>Three distinct free ports: all three are held until each is known, so none is handed out twice.</summary>
    static int[] FreeLoopbackPorts()
    {
        var listeners = Enumerable.Range(0, 3).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }

    internal static string RepositoryRoot() =>
        typeof(AzuriteFixture).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!;

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
        Directory.Delete(_data, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
