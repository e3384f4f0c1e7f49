using System.CommandLine;
using Azure.Identity;
using ServerlessTune.Azure.Hosted;
using ServerlessTune.Azure.Monitoring;
using ServerlessTune.Azure.Storage;
using ServerlessTune.Core.Hosting;
using ServerlessTune.Core.Storage;
using ServerlessTune.Serving;
using ServerlessTune.Serving.Hosted;
using ServerlessTune.Serving.Logging;

namespace ServerlessTune.Cli.Commands;

/// <summary>
/// `stune serve`: the OpenAI-compatible endpoint over a registry (a store's production and staging aliases, switched
/// without a restart when Deploy moves them) or over one model folder. Loopback by default; a key is always needed
/// (made up and printed on stderr when none is given on loopback; required anywhere else). With
/// APPLICATIONINSIGHTS_CONNECTION_STRING set (the Azure serving app), its counters go to Application Insights.
/// </summary>
internal static class ServeCommands
{
    public static Command Create()
    {
        var store = new Option<string?>("--store") { Description = "Local folder store holding the registry, where conversations and feedback are logged (default: ./.stune; with --model: no log unless given)." };
        var connection = new Option<string?>("--connection") { Description = $"Blob storage connection string (default: ${StoreEnvironment.Connection})." };
        var container = new Option<string?>("--container") { Description = $"Blob container with --connection (default: ${StoreEnvironment.Container} or stune)." };
        var project = new Option<string?>("--project") { Description = $"Serve this project only (default: ${ServingEnvironment.Project}, else every project)." };
        var model = new Option<string?>("--model") { Description = "Serve one model folder (Hugging Face layout) instead of a registry." };
        var adapter = new Option<string?>("--adapter") { Description = "LoRA adapter folder (PEFT layout) merged into --model." };
        var template = new Option<string?>("--chat-template") { Description = "Chat template of --model when its folder does not say (chatml, llama2, llama3, phi3, zephyr, plain)." };
        var port = new Option<int?>("--port") { Description = $"Port (default: ${ServingEnvironment.Port} or {ServingOptions.DefaultPort}; 0 picks a free one)." };
        var host = new Option<string>("--host") { Description = "Address to bind; anything but loopback needs a key.", DefaultValueFactory = _ => "127.0.0.1" };
        var apiKey = new Option<string?>("--api-key") { Description = $"The key clients send (default: ${ServingEnvironment.ApiKey}; made up on loopback)." };
        var slots = new Option<int>("--slots") { Description = "Sequences decoded together per model version.", DefaultValueFactory = _ => 16 };
        var queue = new Option<int>("--queue") { Description = "Sequences that may wait for a slot before requests get 429.", DefaultValueFactory = _ => 64 };
        var context = new Option<int>("--max-context") { Description = "Positions per sequence (the KV cache is preallocated for them).", DefaultValueFactory = _ => 2048 };
        var format = new FormatFlag("How to hold the weights: fp32, bf16 (fp32 arithmetic) or int8 (weight-only); default: what each version was deployed with (deploy.format), fp32 for --model.");
        var noRedact = new Option<bool>("--no-redact") { Description = "Log conversations and feedback without replacing personal data by placeholders." };
        var command = new Command("serve", "Serve models behind an OpenAI-compatible API (/v1/chat/completions, /v1/completions, /v1/models, " +
            "/v1/feedback, /health) and the chat playground at /.")
        {
            store, connection, container, project, model, adapter, template, format.Option, port, host, apiKey, slots, queue, context, noRedact,
        };
        command.SetAction(async (parse, ct) =>
        {
            var options = ServingOptions.FromEnvironment(Environment.GetEnvironmentVariable);
            // A store or model named on the command line replaces the environment's store.
            bool storeFlag = parse.GetValue(store) is not null || parse.GetValue(connection) is not null || parse.GetValue(model) is not null;
            options = options with
            {
                Store = parse.GetValue(store),
                Connection = storeFlag ? parse.GetValue(connection) : options.Connection,
                BlobServiceUri = storeFlag ? null : options.BlobServiceUri,
                Container = parse.GetValue(container) ?? options.Container,
                Project = parse.GetValue(project) ?? options.Project,
                ModelFolder = parse.GetValue(model),
                Adapter = parse.GetValue(adapter),
                ChatTemplate = parse.GetValue(template),
                Format = format.Value(parse),
                Port = parse.GetValue(port) ?? options.Port,
                Host = parse.GetValue(host)!,
                ApiKey = parse.GetValue(apiKey) ?? options.ApiKey,
                Slots = parse.GetValue(slots),
                QueueCapacity = parse.GetValue(queue),
                MaxContext = parse.GetValue(context),
                RedactPii = !parse.GetValue(noRedact),
            };
            bool generated;
            try
            {
                options = options.Validated(out generated);
            }
            catch (UsageException ex)
            {
                Console.Error.WriteLine($"usage: {ex.Message}");
                return 2;
            }
            // Azure OpenAI without a key: the signed-in identity's tokens (the managed identity in Azure).
            if (options.Hosted.Endpoints is { AzureEndpoint: not null, AzureKey: null })
                options = options with
                {
                    Hosted = options.Hosted with { AzureToken = new EntraTokenSource(new DefaultAzureCredential(), HostedUpstreams.AzureScope).GetAsync },
                };
            if (generated) Console.Error.WriteLine($"no --api-key given: clients must send this key: {options.ApiKey}");
            var artifacts = await OpenStoreAsync(options, ct);
            await using var app = await ServingApp.StartAsync(options, artifacts,
                hostServices: AzureMonitorMetrics.FromEnvironment(Environment.GetEnvironmentVariable, ServingMetrics.MeterName), ct: ct);
            Console.Error.WriteLine($"serving {(options.ModelFolder ?? artifacts!.Location)} on {app.Address} (OpenAI base URL {new Uri(app.Address, "/v1")}); Ctrl-C stops");
            try
            {
                await app.WaitForShutdownAsync(ct);
            }
            catch (OperationCanceledException) { }
            return 0;
        });
        return command;
    }

    /// <summary>The registry's store (and the log's): none for one model folder unless a store is named, a blob container by connection string or by account URL
    /// with the host's identity, else a local folder.</summary>
    static async Task<IArtifactStore?> OpenStoreAsync(ServingOptions options, CancellationToken ct) => options switch
    {
        { ModelFolder: not null, Store: null, Connection: null } => null,
        { Connection: { } connection } => await BlobArtifactStore.ConnectAsync(connection, options.Container, ct),
        { BlobServiceUri: { } account } => await BlobArtifactStore.ConnectAsync(new Uri(account), options.Container, ct: ct),
        _ => new LocalFolderStore(options.Store ?? ".stune"),
    };

    /// <summary>The command that serves what a run deployed to this store, for `stune run` to print.</summary>
    public static string CommandFor(string project, string storeFolder, string? blobContainer) =>
        blobContainer is null
            ? $"stune serve --store {storeFolder} --project {project}"
            : $"stune serve --connection \"${TrainerStore.ConnectionVariable}\" --container {blobContainer} --project {project}";
}
