using System.Text.Json;
using Azure.Core;
using ServerlessTune.Azure.Hosted;
using ServerlessTune.Core.PipelineConfig;
using ServerlessTune.Core.Storage;
using ServerlessTune.Workflow.Jobs;
using ServerlessTune.Workflow.Runner;
using ServerlessTune.Workflow.Tests.Orchestration;

namespace ServerlessTune.Workflow.Tests.Hosted;

/// <summary>
/// A project's support dialogues in a local store, the loopback service, and the pipeline runner wired the way
/// `stune run` wires it (PipelineRunnerOptions.Hosted = HostedModels over the official clients), with settings that
/// point the clients at the loopback server (the environment's names, set here as values) and an HTTP client that
/// trusts its certificate.
/// </summary>
public sealed class HostedHarness : IAsyncDisposable
{
    public const string Project = "harbor";

    readonly string _folder = Directory.CreateTempSubdirectory("stune-hosted-").FullName;
    readonly List<HttpClient> _clients = [];

    HostedHarness(LoopbackOpenAI server)
    {
        Server = server;
        Store = new LocalFolderStore(Path.Combine(_folder, "store"));
    }

    public LoopbackOpenAI Server { get; }
    public LocalFolderStore Store { get; }

    public static async Task<HostedHarness> StartAsync(int examples = 30)
    {
        var harness = new HostedHarness(await LoopbackOpenAI.StartAsync());
        await harness.AddDatasetAsync(examples);
        return harness;
    }

    /// <summary>Support dialogues in the OpenAI chat format, one router model each (the questions differ by a word the answers echo).</summary>
    async Task AddDatasetAsync(int examples)
    {
        var lines = Enumerable.Range(1, examples).Select(i => JsonSerializer.Serialize(new
        {
            messages = new[]
            {
                new { role = "system", content = "You are Harbor Fiber's support assistant." },
                new { role = "user", content = $"How do I reset router model HX{i}?" },
                new { role = "assistant", content = $"Hold the reset button of the HX{i} for {i + 5} seconds until the light blinks green." },
            },
        }));
        await Store.WriteAllTextAsync(ArtifactLayout.Dataset(Project).File("chats.jsonl"), string.Join("\n", lines) + "\n");
    }

    /// <summary>The settings the environment would give (AZURE_OPENAI_ENDPOINT, OPENAI_BASE_URL, ...), all pointing at the loopback server.</summary>
    public HostedSettings Settings => HostedSettings.From(name => name switch
    {
        HostedSettings.OpenAIBaseUrlName => Server.OpenAIBase.ToString(),
        HostedSettings.OpenAIKeyName => LoopbackOpenAI.OpenAIKey,
        HostedSettings.AzureEndpointName => Server.Root.ToString(),
        HostedSettings.AzureKeyName => LoopbackOpenAI.AzureKey,
        HostedSettings.AzureAccountIdName => Server.AccountId,
        HostedSettings.ManagementEndpointName => Server.Root.ToString(),
        _ => null,
    }) with { DeploymentPoll = TimeSpan.FromMilliseconds(20), FilePoll = TimeSpan.FromMilliseconds(20), RetryDelay = TimeSpan.FromMilliseconds(10) };

    /// <summary>A new set of clients over the store: what a worker that (re)starts builds.</summary>
    public HostedModels Models()
    {
        var http = Server.Client();
        _clients.Add(http);
        return new HostedModels(Store, Settings, new StaticToken(), http);
    }

    /// <summary>The run's options from a pipeline.json text, with a validation split the derived suite can use.</summary>
    public static PipelineInput Input(string configJson)
    {
        string source = ArtifactLayout.Dataset(Project).Config;
        var options = PipelineOptionsParser.Parse(configJson, source);
        return new(Project, options with { Prepare = options.Prepare with { ValidationFraction = 0.2 } }, source, PipelineHarness.FastTiming);
    }

    /// <summary>The embedded runner with hosted models; the container launcher is never asked for a job in a hosted run.</summary>
    public PipelineRunner Runner(HostedModels? models = null) =>
        new(Store, new LocalProcessJobLauncher(new LocalTrainerCommand("false", []), Store.Location), new PipelineRunnerOptions
        {
            Hosted = models ?? Models(),
            StatusInterval = TimeSpan.FromMilliseconds(20),
        });

    public int Count(string method, string pathEnd) => Server.Requests.Count(r => r.Method == method && r.Path.EndsWith(pathEnd, StringComparison.Ordinal));

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        _clients.ForEach(c => c.Dispose());
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>The ARM bearer token the managed identity would give.</summary>
    sealed class StaticToken : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new(LoopbackOpenAI.ArmToken, DateTimeOffset.UtcNow.AddHours(1));

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
