using System.CommandLine;
using System.Text.Json;
using ServerlessTune.Azure.Storage;
using ServerlessTune.Core;
using ServerlessTune.Core.Data;
using ServerlessTune.Core.PipelineConfig;
using ServerlessTune.Core.Storage;
using ServerlessTune.Workflow;
using ServerlessTune.Workflow.Jobs;
using ServerlessTune.Workflow.Runner;

namespace ServerlessTune.Cli.Commands;

/// <summary>
/// `stune run`: the whole pipeline embedded (prepare, train, evaluate, gate, deploy) in the in-process
/// Durable Task engine, over a local folder store or a blob container.
/// Exit codes: 0 deployed, 3 the gate refused the model (nothing deployed), 1 the run failed.
/// </summary>
internal static class RunCommands
{
    /// <summary>Used when pipeline.json names no base model: small enough to train on a laptop CPU in minutes.</summary>
    public const string OfflineBaseModel = "init:llama-tiny";
    const int GateFailedExitCode = 3;
    const string DefaultContainer = "stune";

    public static Command Create()
    {
        var dataset = new Argument<DirectoryInfo>("dataset-folder") { Description = "Folder of support data files (and optionally pipeline.json)." };
        var config = new Option<FileInfo?>("--config") { Description = "pipeline.json to use instead of the one in the dataset folder." };
        var store = new Option<string?>("--store") { Description = "Local folder for all artifacts (default: ./.stune)." };
        var connection = new Option<string?>("--connection") { Description = "Blob storage connection string (e.g. UseDevelopmentStorage=true for Azurite); default: $STUNE_STORAGE_CONNECTION." };
        var container = new Option<string>("--container") { Description = "Blob container with --connection.", DefaultValueFactory = _ => DefaultContainer };
        var project = new Option<string?>("--project") { Description = "Project name (default: the dataset folder's name)." };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON document." };
        var command = new Command("run", "Run the whole pipeline on a dataset folder: prepare, train, evaluate, gate, deploy.")
        {
            dataset, config, store, connection, container, project, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            var folder = parse.GetValue(dataset)!;
            if (!folder.Exists) throw new UserInputException($"{folder.FullName}: dataset folder not found");
            string projectName = ArtifactPath.ValidateName(parse.GetValue(project) ?? folder.Name, "project");
            var (options, optionsSource) = ReadOptions(parse.GetValue(config), folder);

            string? connectionString = parse.GetValue(connection) ?? Environment.GetEnvironmentVariable(TrainerStore.ConnectionVariable);
            string containerName = parse.GetValue(container)!;
            IArtifactStore artifacts = connectionString is null
                ? new LocalFolderStore(parse.GetValue(store) ?? ".stune")
                : await BlobArtifactStore.ConnectAsync(connectionString, containerName, ct);
            using var launcher = new LocalProcessJobLauncher(TrainerCommand(connectionString, containerName), artifacts.Location);

            // The embedded engine's gRPC sidecar is an ASP.NET Core host that logs to the console; stdout is for the result.
            QuietHostLogging();
            int uploaded = await UploadDatasetAsync(artifacts, folder, projectName, ct);
            Console.Error.WriteLine($"project {projectName}: {uploaded} file(s) from {folder.FullName} -> {artifacts.Location}");
            var input = new PipelineInput(projectName, options with { BaseModel = options.BaseModel ?? OfflineBaseModel }, optionsSource);
            var result = await new PipelineRunner(artifacts, launcher).RunAsync(input, new StderrStatus(), ct: ct);

            Console.Out.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(Summary(result), Indented) : Text(result));
            return result.Status switch
            {
                PipelineOutcome.Completed => 0,
                PipelineOutcome.GateFailed => GateFailedExitCode,
                _ => 1,
            };
        });
        return command;
    }

    static void QuietHostLogging()
    {
        foreach (var (key, value) in new[] { ("Logging__Console__LogToStandardErrorThreshold", "Trace"), ("Logging__LogLevel__Default", "Warning") })
            if (Environment.GetEnvironmentVariable(key) is null) Environment.SetEnvironmentVariable(key, value);
    }

    static readonly JsonSerializerOptions Indented = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>pipeline.json, parsed once for the whole run (defaults when the folder has none).</summary>
    static (PipelineOptions Options, string Source) ReadOptions(FileInfo? explicitConfig, DirectoryInfo folder)
    {
        var file = explicitConfig ?? new FileInfo(Path.Combine(folder.FullName, DatasetPaths.ConfigFile));
        if (!file.Exists)
            return explicitConfig is null ? (new PipelineOptions(), DatasetPaths.ConfigFile) : throw new UserInputException($"{file.FullName}: not found");
        return (PipelineOptionsParser.Parse(File.ReadAllText(file.FullName), file.FullName), file.FullName);
    }

    /// <summary>
    /// The dataset folder's files go to datasets/{project}/, as a user's upload to blob storage would. Links are judged as
    /// `stune prepare` judges them: one that leaves the folder, dangles or loops refuses the run before anything is copied.
    /// </summary>
    static async Task<int> UploadDatasetAsync(IArtifactStore store, DirectoryInfo folder, string project, CancellationToken ct)
    {
        var files = LocalInputs.Walk(folder.FullName);
        if (files.FirstOrDefault(f => f.Refused is not null) is { } link)
            throw new UserInputException($"{link.FullPath}: {link.Refused!.Message}");
        foreach (var file in files)
        {
            string relative = Path.GetRelativePath(folder.FullName, file.FullPath).Replace(Path.DirectorySeparatorChar, '/');
            if (!ArtifactPath.IsValid(relative))
                throw new UserInputException($"{file.FullPath}: file name cannot be stored ({relative})");
        }
        return await store.UploadFolderAsync(folder.FullName, ArtifactLayout.Dataset(project).Folder, ct, files.Select(f => f.FullPath));
    }

    /// <summary>The trainer program built beside stune, reading the same store (a folder, or the container through the environment).</summary>
    static LocalTrainerCommand TrainerCommand(string? connectionString, string container)
    {
        string trainer = Path.Combine(AppContext.BaseDirectory, "stune-trainer.dll");
        if (connectionString is null) return LocalTrainerCommand.ForTrainerAssembly(trainer);
        // The connection string may hold a key: it reaches the child through its environment, never its command line.
        Environment.SetEnvironmentVariable(TrainerStore.ConnectionVariable, connectionString);
        return new LocalTrainerCommand("dotnet", [trainer, "{spec}", "--container", container]);
    }

    static object Summary(PipelineRunResult r) => new
    {
        runId = r.RunId,
        status = r.Status,
        gate = r.Gate is { } g ? new { passed = g.Passed, reasons = g.Reasons } : null,
        version = r.Version,
        alias = r.Alias,
        error = r.Error,
        metrics = r.Result?.Metrics,
    };

    static string Text(PipelineRunResult r)
    {
        var lines = new List<string> { $"run {r.RunId}: {r.Status}" };
        if (r.Gate is { } gate)
            lines.Add($"gate: {(gate.Passed ? "passed" : "failed")}" + (gate.Reasons.Count > 0 ? $" ({string.Join("; ", gate.Reasons)})" : ""));
        if (r.Version is not null) lines.Add($"registered version {r.Version} as {r.Alias}");
        if (r.Error is not null) lines.Add($"error: {r.Error}");
        return string.Join(Environment.NewLine, lines);
    }

    /// <summary>Live progress from the run's custom status, one line per change.</summary>
    sealed class StderrStatus : IProgress<PipelineStatus>
    {
        public void Report(PipelineStatus s)
        {
            string step = s.TrainingStep is { } n ? $" step {n}" : "";
            string loss = s.Loss is { } l ? $" loss {l:F4}" : "";
            string message = s.Message is { Length: > 0 } m ? $" {m}" : "";
            Console.Error.WriteLine($"[{s.Progress,4:P0}] {s.Step}{step}{loss}{message}");
        }
    }
}
