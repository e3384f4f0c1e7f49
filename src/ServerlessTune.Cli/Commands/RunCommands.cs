using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;
using ServerlessTune.Azure.Hosted;
using ServerlessTune.Azure.Storage;
using ServerlessTune.Core;
using ServerlessTune.Core.Hosted;
using ServerlessTune.Core.Data;
using ServerlessTune.Core.PipelineConfig;
using ServerlessTune.Core.Storage;
using ServerlessTune.Workflow;
using ServerlessTune.Workflow.Api;
using ServerlessTune.Workflow.Jobs;
using ServerlessTune.Workflow.Runner;

namespace ServerlessTune.Cli.Commands;

/// <summary>
/// `stune run`: the whole pipeline embedded (prepare, train, evaluate, gate, deploy) in the in-process Durable Task
/// engine, over a local folder store or a blob container (with the Durable Task Azure Storage backend in the same
/// account, so a killed run's orchestration goes on when it is started again).
/// Exit codes: 0 deployed, 3 the gate refused the model (nothing deployed), 1 the run failed or bad input,
/// 2 usage, 130 stopped by SIGINT/SIGTERM (the trainer checkpointed; `stune run --resume {id}` continues).
/// </summary>
internal static class RunCommands
{
    /// <summary>Used when pipeline.json names no base model: small enough to train on a laptop CPU in minutes.</summary>
    public const string OfflineBaseModel = "init:llama-tiny";
    const int GateFailedExitCode = 3;
    const int StoppedExitCode = 130;
    /// <summary>How long a stopped trainer may take to finish its step and write its checkpoint before it is killed.</summary>
    static readonly TimeSpan TrainerStopGrace = TimeSpan.FromMinutes(2);
    /// <summary>Our trainer is a child process: polling it is cheap, so a run does not idle 30 s after each job ends.
    /// A hosted job is polled at the service's pace (TimingOptions' default).</summary>
    const double LocalPollSeconds = 2;

    public static Command Create()
    {
        var dataset = new Argument<DirectoryInfo?>("dataset-folder") { Description = "Folder of support data files (and optionally pipeline.json).", Arity = ArgumentArity.ZeroOrOne };
        var config = new Option<FileInfo?>("--config") { Description = "pipeline.json to use instead of the one in the dataset folder." };
        var store = new Option<string?>("--store") { Description = "Local folder for all artifacts (default: ./.stune)." };
        var connection = new Option<string?>("--connection") { Description = "Storage connection string (e.g. UseDevelopmentStorage=true for Azurite): artifacts in a blob container, run state in a Durable Task hub of the same account; default: $STUNE_STORAGE_CONNECTION." };
        var container = new Option<string>("--container") { Description = "Blob container (and task hub name) with --connection.", DefaultValueFactory = _ => RunStore.DefaultContainer };
        var project = new Option<string?>("--project") { Description = "Project name (default: the dataset folder's name)." };
        var resume = new Option<string?>("--resume") { Description = "Continue an unfinished run by its id, with the options it started with." };
        var restart = new Option<bool>("--restart") { Description = "Start a new run even if an unfinished run of the same dataset and config exists." };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON document." };
        var poll = new Option<double?>("--poll-seconds")
        {
            Description = $"How often a running training job is polled (default: {LocalPollSeconds} s for our trainer, {new TimingOptions().PollSeconds} s for a hosted fine-tuning job).",
        };
        poll.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double?>() is { } s && s is not (> 0 and <= 3600)) result.AddError("--poll-seconds: expected a number above 0 and at most 3600");
        });
        var command = new Command("run", "Run the whole pipeline on a dataset folder: prepare, train, evaluate, gate, deploy.")
        {
            dataset, config, store, connection, container, project, resume, restart, json, poll,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(dataset) is null == result.GetValue(resume) is null)
                result.AddError("name a dataset folder, or --resume <run id> (not both)");
            if (result.GetValue(resume) is not null && result.GetValue(poll) is not null)
                result.AddError("--poll-seconds applies to a new run; a resumed run keeps the timing it started with");
        });
        command.SetAction(async (parse, ct) =>
        {
            var target = await RunStore.OpenAsync(parse.GetValue(store), parse.GetValue(connection), parse.GetValue(container)!, ct);
            var record = parse.GetValue(resume) is { } runId
                ? await RunRecord.ReadAsync(target.Artifacts, ArtifactPath.ValidateName(runId, "run id"), ct)
                : await NewOrUnfinishedAsync(target.Artifacts, parse.GetValue(dataset)!, parse.GetValue(config), parse.GetValue(project), parse.GetValue(restart),
                    parse.GetValue(poll), ct);

            var result = await ExecuteAsync(target, record, ct);
            if (result is null) return StoppedExitCode;
            Console.Out.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(Summary(result), Indented) : Text(result));
            return ExitCode(result);
        });
        return command;
    }

    internal static int ExitCode(PipelineRunResult result) => result.Status switch
    {
        PipelineOutcome.Completed => 0,
        PipelineOutcome.GateFailed => GateFailedExitCode,
        _ => 1,
    };

    /// <summary>
    /// Runs (or continues) a recorded run embedded, with the trainer as a child process, until it ends (the result; a deployed
    /// run also prints the serve command on stderr) or SIGINT/SIGTERM stops it (null; the trainer checkpointed).
    /// </summary>
    internal static async Task<PipelineRunResult?> ExecuteAsync(RunStore target, RunRecord record, CancellationToken ct)
    {
        var (artifacts, connectionString, containerName) = target;
        using var launcher = new LocalProcessJobLauncher(TrainerCommand(connectionString, containerName), artifacts.Location);
        var runner = new PipelineRunner(artifacts, launcher, new PipelineRunnerOptions
        {
            Backend = connectionString is null ? null : loggers => DurableStorage.Backend(connectionString, containerName, loggers),
            Hosted = HostedModels.FromEnvironment(artifacts),
        });
        var result = await RunUntilStoppedAsync(runner, launcher, artifacts, record, ct);
        if (result?.Status == PipelineOutcome.Completed)
            Console.Error.WriteLine($"serve it: {ServeCommands.CommandFor(record.Input.Project, artifacts.Location, connectionString is null ? null : containerName)}");
        return result;
    }

    /// <summary>A run's input as `stune run` makes it: the offline base model when pipeline.json names none, our trainer polled every 2 s.</summary>
    internal static PipelineInput InputFor(string project, PipelineOptions options, string source, double? pollSeconds = null)
    {
        string baseModel = options.BaseModel ?? OfflineBaseModel;
        var timing = new TimingOptions(PollSeconds: pollSeconds ?? (HostedBaseModel.TryParse(baseModel, out _) ? new TimingOptions().PollSeconds : LocalPollSeconds));
        return new PipelineInput(project, options with { BaseModel = baseModel }, source, timing);
    }

    /// <summary>
    /// Runs (or continues) the run until it ends, or until SIGINT/SIGTERM: then the engine stops first, so no step
    /// starts or reads a job that is going away, the trainer is asked to stop (it checkpoints), and null is returned.
    /// </summary>
    static async Task<PipelineRunResult?> RunUntilStoppedAsync(PipelineRunner runner, LocalProcessJobLauncher launcher, IArtifactStore store,
        RunRecord record, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        Console.Error.WriteLine($"run {record.RunId}: project {record.Input.Project}, artifacts in {store.Location}");
        try
        {
            return await runner.RunAsync(record, new StderrStatus(), stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            int stopped = await launcher.StopAllAsync(TrainerStopGrace);
            Console.Error.WriteLine($"stopped run {record.RunId}{(stopped > 0 ? " (its trainer saved a checkpoint)" : "")}; continue it with: stune run --resume {record.RunId}{StoreArguments(store)}");
            return null;
        }
    }

    static string StoreArguments(IArtifactStore store) => store is LocalFolderStore ? $" --store {store.Location}" : " --connection <the same connection string>";

    /// <summary>
    /// A rerun of the same command continues the project's unfinished run when it was started on the same files with
    /// the same options (same fingerprint); anything else, or --restart, starts a new run.
    /// </summary>
    static async Task<RunRecord> NewOrUnfinishedAsync(IArtifactStore store, DirectoryInfo folder, FileInfo? explicitConfig, string? projectOption,
        bool restart, double? pollSeconds, CancellationToken ct)
    {
        if (!folder.Exists) throw new UserInputException($"{folder.FullName}: dataset folder not found");
        string projectName = ArtifactPath.ValidateName(projectOption ?? folder.Name, "project");
        var (options, optionsSource) = ReadOptions(explicitConfig, folder);
        var files = StorableFiles(folder);
        var input = InputFor(projectName, options, optionsSource, pollSeconds);
        string fingerprint = RunFingerprint.Of(folder, input);
        if (!restart && await new ActiveRuns(store).GetAsync(projectName, ct) is { Finished: false } unfinished && unfinished.Fingerprint == fingerprint)
        {
            Console.Error.WriteLine($"run {unfinished.RunId} of project {projectName} did not finish on the same files and options: continuing it (--restart starts a new run)");
            return await RunRecord.ReadAsync(store, unfinished.RunId, ct);
        }
        await input.Options.RequireReferencedFilesAsync(optionsSource, path => Task.FromResult(File.Exists(Path.Combine(folder.FullName, path))));
        // Uploaded as a user's upload to blob storage would be: datasets/{project}/.
        int uploaded = await store.UploadFolderAsync(folder.FullName, ArtifactLayout.Dataset(projectName).Folder, ct, files);
        Console.Error.WriteLine($"project {projectName}: {uploaded} file(s) from {folder.FullName} -> {store.Location}");
        var record = new RunRecord(RunIds.New(DateTimeOffset.UtcNow), fingerprint, input);
        await record.WriteAsync(store, ct);
        return record;
    }

    internal static readonly JsonSerializerOptions Indented = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>pipeline.json, parsed once for the whole run (defaults when the folder has none).</summary>
    static (PipelineOptions Options, string Source) ReadOptions(FileInfo? explicitConfig, DirectoryInfo folder)
    {
        var file = explicitConfig ?? new FileInfo(Path.Combine(folder.FullName, DatasetPaths.ConfigFile));
        if (!file.Exists)
            return explicitConfig is null ? (new PipelineOptions(), DatasetPaths.ConfigFile) : throw new UserInputException($"{file.FullName}: not found");
        return (PipelineOptionsParser.Parse(File.ReadAllText(file.FullName), file.FullName), file.FullName);
    }

    /// <summary>
    /// The dataset folder's files, each a valid artifact path, checked before anything is uploaded. Links are judged as
    /// `stune prepare` judges them: one that leaves the folder, dangles or loops refuses the run before anything is copied.
    /// </summary>
    static IReadOnlyList<string> StorableFiles(DirectoryInfo folder)
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
        return files.Select(f => f.FullPath).ToList();
    }

    /// <summary>The trainer program built beside stune, reading the same store (a folder, or the container through the environment).</summary>
    static LocalTrainerCommand TrainerCommand(string? connectionString, string container)
    {
        string trainer = Path.Combine(AppContext.BaseDirectory, "stune-trainer.dll");
        if (connectionString is null) return LocalTrainerCommand.ForTrainerAssembly(trainer);
        // The connection string may hold a key: it reaches the child through its environment, never its command line.
        Environment.SetEnvironmentVariable(TrainerStore.ConnectionVariable, connectionString);
        return LocalTrainerCommand.ForTrainerAssembly(trainer, "--container", container);
    }

    internal static object Summary(PipelineRunResult r) => new
    {
        runId = r.RunId,
        status = r.Status,
        gate = r.Gate is { } g ? new { passed = g.Passed, reasons = g.Reasons } : null,
        version = r.Version,
        alias = r.Alias,
        error = r.Error,
        metrics = r.Result?.Metrics,
    };

    internal static string Text(PipelineRunResult r)
    {
        var lines = new List<string> { $"run {r.RunId}: {r.Status}" };
        if (r.Gate is { } gate)
            lines.Add($"gate: {(gate.Passed ? "passed" : "failed")}" + (gate.Reasons.Count > 0 ? $" ({string.Join("; ", gate.Reasons)})" : ""));
        if (r.Version is not null) lines.Add($"registered version {r.Version}" + (r.Alias is null ? " (the alias stays on a newer run's version)" : $" as {r.Alias}"));
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
