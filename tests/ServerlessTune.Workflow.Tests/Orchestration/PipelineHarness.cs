using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Storage;
using ServerlessTune.Pipeline.Orchestration;
using ServerlessTune.Pipeline.Runner;
using ServerlessTune.Pipeline.Training;

namespace ServerlessTune.Pipeline.Tests.Orchestration;

/// <summary>A project with a small support dataset in a store, and a runner wired to the test trainer and evaluation.</summary>
public sealed class PipelineHarness : IDisposable
{
    public const string Project = "acme";
    public static readonly PipelineTiming FastTiming = new(PollSeconds: 0.1, RetryFirstSeconds: 0.1, RetryMaxAttempts: 3, ApprovalTimeoutHours: 1);

    readonly List<LocalProcessJobLauncher> _launchers = [];

    public string Scratch { get; } = Directory.CreateTempSubdirectory("stune-pipeline-").FullName;

    /// <summary>Ends any trainer process a failed test left running, then removes the scratch folder.</summary>
    public void Dispose()
    {
        _launchers.ForEach(l => l.Dispose());
        Directory.Delete(Scratch, recursive: true);
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
        await store.WriteAllTextAsync($"datasets/{Project}/chats.jsonl", string.Join("\n", lines) + "\n");
        await AddBaseModelAsync(store);
    }

    /// <summary>A tiny real base model: data preparation tokenises with its tokenizer and holds records to its context.</summary>
    public static async Task AddBaseModelAsync(IArtifactStore store)
    {
        string folder = Directory.CreateTempSubdirectory("stune-base-").FullName;
        try
        {
            ModelInitializer.Run("llama", "tiny", folder, seed: 0);
            await store.UploadFolderAsync(folder, "models/base");
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    public static PipelineInput Input(string? configJson = null) =>
        new(Project, configJson, $"datasets/{Project}/pipeline.json", BaseModel: "models/base", Timing: FastTiming);

    public PipelineRunner Runner(IArtifactStore store, string trainerScript, EvaluationScript evaluation, string? storeFolder = null)
    {
        var launcher = new LocalProcessJobLauncher(ScriptTrainer.Write(Scratch, trainerScript), storeFolder ?? store.Location);
        _launchers.Add(launcher);
        return new(store, launcher, new PipelineRunnerOptions
        {
            Activities = new Dictionary<string, Type> { [PipelineNames.Evaluate] = typeof(ScriptedEvaluateActivity) },
            ConfigureServices = services => services.AddSingleton(evaluation),
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
