using System.CommandLine;
using ServerlessTune.Core.Storage;
using ServerlessTune.Pipeline.Storage;
using ServerlessTune.Serving;

namespace ServerlessTune.Cli.Commands;

/// <summary>
/// `stune serve`: the OpenAI-compatible endpoint over a registry (a store's production and staging aliases, switched
/// without a restart when Deploy moves them) or over one model folder. Loopback by default; a key is always needed
/// (made up and printed on stderr when none is given on loopback; required anywhere else).
/// </summary>
internal static class ServeCommands
{
    public static Command Create()
    {
        var store = new Option<string?>("--store") { Description = "Local folder store holding the registry (default: ./.stune)." };
        var connection = new Option<string?>("--connection") { Description = $"Blob storage connection string (default: ${ServingSettings.StorageVariable})." };
        var container = new Option<string?>("--container") { Description = $"Blob container with --connection (default: ${ServingSettings.ContainerVariable} or stune)." };
        var project = new Option<string?>("--project") { Description = $"Serve this project only (default: ${ServingSettings.ProjectVariable}, else every project)." };
        var model = new Option<string?>("--model") { Description = "Serve one model folder (Hugging Face layout) instead of a registry." };
        var adapter = new Option<string?>("--adapter") { Description = "LoRA adapter folder (PEFT layout) merged into --model." };
        var template = new Option<string?>("--chat-template") { Description = "Chat template of --model when its folder does not say (chatml, llama2, llama3, phi3, zephyr, plain)." };
        var port = new Option<int?>("--port") { Description = $"Port (default: ${ServingSettings.PortVariable} or {ServingSettings.DefaultPort}; 0 picks a free one)." };
        var host = new Option<string>("--host") { Description = "Address to bind; anything but loopback needs a key.", DefaultValueFactory = _ => "127.0.0.1" };
        var apiKey = new Option<string?>("--api-key") { Description = $"The key clients send (default: ${ServingSettings.ApiKeyVariable}; made up on loopback)." };
        var slots = new Option<int>("--slots") { Description = "Sequences decoded together per model version.", DefaultValueFactory = _ => 16 };
        var queue = new Option<int>("--queue") { Description = "Sequences that may wait for a slot before requests get 429.", DefaultValueFactory = _ => 64 };
        var context = new Option<int>("--max-context") { Description = "Positions per sequence (the KV cache is preallocated for them).", DefaultValueFactory = _ => 2048 };
        var command = new Command("serve", "Serve models behind an OpenAI-compatible API (/v1/chat/completions, /v1/completions, /v1/models, /health).")
        {
            store, connection, container, project, model, adapter, template, port, host, apiKey, slots, queue, context,
        };
        command.SetAction(async (parse, ct) =>
        {
            var settings = ServingSettings.FromEnvironment(Environment.GetEnvironmentVariable);
            settings = settings with
            {
                Store = parse.GetValue(store),
                Connection = parse.GetValue(connection) ?? (parse.GetValue(store) is null && parse.GetValue(model) is null ? settings.Connection : null),
                Container = parse.GetValue(container) ?? settings.Container,
                Project = parse.GetValue(project) ?? settings.Project,
                ModelFolder = parse.GetValue(model),
                Adapter = parse.GetValue(adapter),
                ChatTemplate = parse.GetValue(template),
                Port = parse.GetValue(port) ?? settings.Port,
                Host = parse.GetValue(host)!,
                ApiKey = parse.GetValue(apiKey) ?? settings.ApiKey,
                Slots = parse.GetValue(slots),
                QueueCapacity = parse.GetValue(queue),
                MaxContext = parse.GetValue(context),
            };
            bool generated;
            try
            {
                settings = settings.Validated(out generated);
            }
            catch (UsageException ex)
            {
                Console.Error.WriteLine($"usage: {ex.Message}");
                return 2;
            }
            if (generated) Console.Error.WriteLine($"no --api-key given: clients must send this key: {settings.ApiKey}");
            IArtifactStore? artifacts = settings.ModelFolder is not null ? null
                : settings.Connection is { } c ? await BlobArtifactStore.ConnectAsync(c, settings.Container, ct)
                : new LocalFolderStore(settings.Store ?? ".stune");
            await using var app = await ServingApp.StartAsync(settings, artifacts, ct: ct);
            Console.Error.WriteLine($"serving {(settings.ModelFolder ?? artifacts!.Location)} on {app.Address} (OpenAI base URL {new Uri(app.Address, "/v1")}); Ctrl-C stops");
            try
            {
                await app.WaitForShutdownAsync(ct);
            }
            catch (OperationCanceledException) { }
            return 0;
        });
        return command;
    }

    /// <summary>The command that serves what a run deployed to this store, for `stune run` to print.</summary>
    public static string CommandFor(string project, string storeFolder, string? blobContainer) =>
        blobContainer is null
            ? $"stune serve --store {storeFolder} --project {project}"
            : $"stune serve --connection \"${TrainerStore.ConnectionVariable}\" --container {blobContainer} --project {project}";
}
