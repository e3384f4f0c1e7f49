using System.Net;
using System.Security.Cryptography;
using ServerlessTune.Core.Hosting;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Serving.Engine;
using ServerlessTune.Serving.Hosted;
using ServerlessTune.Serving.Protocol;

namespace ServerlessTune.Serving;

/// <summary>
/// Everything a serving host reads, from flags or the environment, in one place. `stune serve` fills it from
/// its flags over the environment; the Azure serving container from the environment alone (the names are
/// Core/Hosting's ServingEnvironment and StoreEnvironment, which infra/ sets).
/// </summary>
public sealed record ServingOptions
{
    public const string DefaultContainer = "stune";
    public const int DefaultPort = 8000;

    /// <summary>A local folder store (the default of `stune run`: ./.stune).</summary>
    public string? Store { get; init; }
    /// <summary>A blob connection string (STUNE_STORAGE); the host opens the container.</summary>
    public string? Connection { get; init; }
    /// <summary>A blob account URL reached with a managed identity (STUNE_STORAGE__blobServiceUri).</summary>
    public string? BlobServiceUri { get; init; }
    public string Container { get; init; } = DefaultContainer;
    /// <summary>Serve only this project's aliases (STUNE_PROJECT); null = every project in the registry.</summary>
    public string? Project { get; init; }
    /// <summary>Serve one model folder instead of a registry (a store given with it only keeps the conversation log).</summary>
    public string? ModelFolder { get; init; }
    public string? Adapter { get; init; }
    public string? ChatTemplate { get; init; }
    /// <summary>How to hold the weights (`--format`): overrides the deployed versions' deploy.format; null = theirs (fp32 for a folder).</summary>
    public WeightFormat? Format { get; init; }

    public string Host { get; init; } = "127.0.0.1";
    /// <summary>0 picks a free port (tests).</summary>
    public int Port { get; init; } = DefaultPort;
    public string? ApiKey { get; init; }

    /// <summary>Sequences decoded together per loaded version.</summary>
    public int Slots { get; init; } = 16;
    /// <summary>Sequences that may wait for a slot; beyond that a request gets 429.</summary>
    public int QueueCapacity { get; init; } = 64;
    /// <summary>Positions per slot (bounded by the model's context): the KV cache is preallocated for them.</summary>
    public int MaxContext { get; init; } = 2048;
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);
    public ServingLimits Limits { get; init; } = new();

    /// <summary>Personal data in logged conversations and feedback is replaced by placeholders (`--no-redact` turns it off).</summary>
    public bool RedactPii { get; init; } = true;
    /// <summary>How long a logged completion may wait before its batch is written to the store.</summary>
    public TimeSpan LogFlushInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The services that serve hosted projects' models, and the credentials to call them with.</summary>
    public HostedUpstreams Hosted { get; init; } = new();

    public EngineLimits Engine => new(Slots, QueueCapacity, MaxContext);

    /// <summary>The environment's values; flags given on a command line go over them with `with`.</summary>
    public static ServingOptions FromEnvironment(Func<string, string?> env)
    {
        var port = env(ServingEnvironment.Port) is { Length: > 0 } p
            ? int.TryParse(p, out var n) && n is >= 0 and <= 65535 ? n : throw new UsageException($"{ServingEnvironment.Port}: '{p}' is not a port number")
            : DefaultPort;
        return new ServingOptions
        {
            Connection = env(StoreEnvironment.Connection) is { Length: > 0 } c ? c : null,
            BlobServiceUri = env(StoreEnvironment.AccountUrl) is { Length: > 0 } u ? u : null,
            Container = env(StoreEnvironment.Container) is { Length: > 0 } container ? container : DefaultContainer,
            ApiKey = env(ServingEnvironment.ApiKey) is { Length: > 0 } k ? k : null,
            Project = env(ServingEnvironment.Project) is { Length: > 0 } project ? project : null,
            Port = port,
            Hosted = HostedUpstreams.FromEnvironment(env),
        };
    }

    public bool IsLoopback => Host == "localhost" || (IPAddress.TryParse(Host, out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>
    /// Checks the combination before anything starts. Every endpoint needs a key: without one, a loopback server
    /// makes up a random key (the host prints it, as Jupyter does); any other address refuses to start.
    /// </summary>
    public ServingOptions Validated(out bool keyGenerated)
    {
        keyGenerated = false;
        if (ModelFolder is not null && Connection is not null && Store is not null)
            throw new UsageException("give --store or --connection, not both");
        if (ModelFolder is null && Adapter is not null) throw new UsageException("--adapter needs --model");
        if (Connection is not null && Store is not null) throw new UsageException("give --store or --connection, not both");
        if (Connection is not null && BlobServiceUri is not null)
            throw new UsageException($"set {StoreEnvironment.Connection} or {StoreEnvironment.AccountUrl}, not both");
        if (BlobServiceUri is not null && !(Uri.TryCreate(BlobServiceUri, UriKind.Absolute, out var account) && account.Scheme == Uri.UriSchemeHttps))
            throw new UsageException($"{StoreEnvironment.AccountUrl}: '{BlobServiceUri}' is not an https URL");
        if (Slots < 1 || QueueCapacity < 0 || MaxContext < 2)
            throw new UsageException("slots must be at least 1, the queue at least 0 and the context at least 2");
        if (Port is < 0 or > 65535) throw new UsageException($"--port {Port} is not a port number");
        if (ApiKey is { Length: > 0 }) return this;
        if (!IsLoopback)
            throw new UsageException($"--host {Host} is not loopback: give --api-key or set {ServingEnvironment.ApiKey} (every endpoint needs a key)");
        keyGenerated = true;
        return this with { ApiKey = "sk-stune-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24)) };
    }
}

/// <summary>A command-line or serving-options mistake (exit code 2), as opposed to bad input data.</summary>
public sealed class UsageException(string message) : Exception(message);
