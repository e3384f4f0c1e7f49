using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.PipelineConfig;
using ServerlessTune.Core.Storage;
using ServerlessTune.Workflow.Jobs;
using ServerlessTune.Workflow.Runner;

namespace ServerlessTune.Workflow.Tests.Orchestration;

/// <summary>A project with a small support dataset in a store, and a runner wired to the test job scripts.</summary>
public sealed class PipelineHarness : IDisposable
{
    public const string Project = "acme";
    /// <summary>Short waits; a job that hangs is stopped after 10 minutes, failing its run (and test) by name instead of hanging it.</summary>
    public static readonly TimingOptions FastTiming = new(PollSeconds: 0.1, JobTimeoutMinutes: 10, RetryFirstSeconds: 0.1, RetryMaxAttempts: 3,
        ApprovalTimeoutHours: 1);
    public const string BaseModel = "models/base";

    readonly List<LocalProcessJobLauncher> _launchers = [];

    public string Scratch { get; } = Directory.CreateTempSubdirectory("stune-pipeline-").FullName;

    /// <summary>Ends any trainer process a failed test left running, then removes the scratch folder.</summary>
    public void Dispose()
    {
        _launchers.ForEach(l => l.Dispose());
        // A terminated run's in-process activity (preparation, say) can still be writing for a moment after the engine
        // is disposed, and a file it creates makes the recursive delete fail with "Directory not empty".
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                Directory.Delete(Scratch, recursive: true);
                return;
            }
            catch (IOException) when (attempt < 20)
            {
                Thread.Sleep(250);
            }
        }
    }

    /// <summary>Twenty short support dialogues in the OpenAI chat format.</summary>
    public static async Task AddDatasetAsync(IArtifactStore store)
    {
        var lines = Enumerable.Range(1, 20).Select(i => JsonSerializer.Serialize(new
        {
            messages = new[]
            {
                new { role = "user", content = $"How do I reset router model R{i}?" },
                new { role = "assistant", content = $"Hold the reset button of the R{i} for {i + 5} seconds until the light blinks." },
            },
        }));
        await store.WriteAllTextAsync(ArtifactLayout.Dataset(Project).File("chats.jsonl"), string.Join("\n", lines) + "\n");
        await AddBaseModelAsync(store);
    }

    /// <summary>A tiny real base model: data preparation tokenises with its tokenizer and holds records to its context.</summary>
    public static async Task AddBaseModelAsync(IArtifactStore store)
    {
        string folder = Directory.CreateTempSubdirectory("stune-base-").FullName;
        try
        {
            ModelInitializer.Run("llama", "tiny", folder, seed: 0);
            await store.UploadFolderAsync(folder, BaseModel);
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    /// <summary>
    /// The run's options as the project's pipeline.json would give them, on the test base model unless they name
    /// one, and with a validation split large enough for the evaluation to derive its suite from (the Evaluate
    /// step reads it before it starts the job).
    /// </summary>
    public static PipelineInput Input(string? configJson = null)
    {
        string source = ArtifactLayout.Dataset(Project).Config;
        var options = PipelineOptionsParser.Parse(configJson ?? "{}", source);
        return new(Project, options with
        {
            BaseModel = options.BaseModel ?? BaseModel,
            Prepare = options.Prepare with { ValidationFraction = 0.3 },
        }, source, FastTiming);
    }

    /// <summary>The job command of the last <see cref="Runner"/>, to read which jobs its scripts ran.</summary>
    public LocalTrainerCommand? Jobs { get; private set; }

    /// <param name="evaluation">What the evaluation job writes; null: the real evaluation job measures the models.</param>
    /// <param name="faults">Faults injected into the job status activity, when given.</param>
    public PipelineRunner Runner(IArtifactStore store, string trainerScript, ScriptedEvaluation? evaluation, string? storeFolder = null,
        JobStatusFaults? faults = null)
    {
        Jobs = evaluation is null ? ScriptTrainer.WithRealEvaluation(Scratch, trainerScript) : ScriptTrainer.Write(Scratch, trainerScript, evaluation);
        var launcher = new LocalProcessJobLauncher(Jobs, storeFolder ?? store.Location);
        _launchers.Add(launcher);
        return new(store, launcher, new PipelineRunnerOptions
        {
            Activities = faults is null ? new Dictionary<string, Type>() : new Dictionary<string, Type> { [PipelineNames.GetJobStatus] = typeof(FaultyJobStatus) },
            ConfigureServices = faults is null ? null : services => services.AddSingleton(faults),
            StatusInterval = TimeSpan.FromMilliseconds(50),
        });
    }
}

/// <summary>Collects progress reports synchronously (Progress&lt;T&gt; would post them later on the thread pool).</summary>
public sealed class StatusLog(Action<PipelineStatus>? onReport = null) : IProgress<PipelineStatus>
{
    readonly List<PipelineStatus> _reports = [];

    public IReadOnlyList<PipelineStatus> Reports { get { lock (_reports) return [.. _reports]; } }

    public void Report(PipelineStatus value)
    {
        lock (_reports) _reports.Add(value);
        onReport?.Invoke(value);
    }
}
