using System.Diagnostics;
using System.Text.Json;
using ServerlessTune.Core.Storage;
using ServerlessTune.Workflow.Tests.Storage;

namespace ServerlessTune.Cli.Tests;

/// <summary>The dataset the interruption tests run, and one run of it that nobody interrupted, made once for them all.</summary>
public sealed class UninterruptedRun : IDisposable
{
    readonly string _root = Directory.CreateTempSubdirectory("stune-uninterrupted-").FullName;

    public UninterruptedRun()
    {
        Dataset = RunArtifacts.Dataset(_root);
        string store = Path.Combine(_root, "store");
        var run = Stune.Run(["run", Dataset, "--store", store], null);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Result = new RunArtifacts(new LocalFolderStore(store));
    }

    public string Dataset { get; }
    public RunArtifacts Result { get; }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}

/// <summary>The interruption tests run one after another (each trains a model) and share the uninterrupted run.</summary>
[CollectionDefinition(Name)]
public sealed class InterruptedRunsCollection : ICollectionFixture<UninterruptedRun>, ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Interrupted runs";
}

/// <summary>
/// What the interruption tests read of a run while `stune run` trains it, through the product's own store reader,
/// so the same checks hold for a local folder and a blob container. Every wait has an upper bound.
/// </summary>
public sealed class RunArtifacts(IArtifactStore store)
{
    // Upper bounds only, so a regression fails in minutes instead of hanging; nothing is asserted about speed.
    public static readonly TimeSpan Bound = TimeSpan.FromMinutes(8);

    /// <summary>A dataset that trains a tiny model for a few steps, checkpointing after each one.</summary>
    public static string Dataset(string root)
    {
        string folder = Directory.CreateDirectory(Path.Combine(root, "acme")).FullName;
        File.WriteAllLines(Path.Combine(folder, "faq.csv"),
            ["question,answer", .. Enumerable.Range(0, 24).Select(i => $"How do I reset router {i}?,Hold its reset button for {i + 5} seconds.")]);
        Directory.CreateDirectory(Path.Combine(folder, "eval"));
        File.WriteAllText(Path.Combine(folder, "eval", "suite.jsonl"),
            """{"id": "a", "question": "How do I reset router 3?", "references": ["Hold its reset button for 8 seconds."]}""" + "\n");
        File.WriteAllText(Path.Combine(folder, "pipeline.json"), """
            {
              "prepare": { "validation_fraction": 0.25, "seed": 3 },
              "train": { "method": "full", "epochs": 2, "batch_size": 8, "grad_accum": 1, "checkpoint_every": 1, "eval_every": 0, "seed": 3 },
              "eval": { "suite": "eval/suite.jsonl", "max_new_tokens": 4 },
              "gate": { "mode": "advisory", "rules": [] }
            }
            """);
        return folder;
    }

    /// <summary>Waits until the store's only run has a complete checkpoint at or past the step; returns the run id.</summary>
    public async Task<string> WaitForCheckpointAsync(RunningStune stune, int atLeast)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < Bound)
        {
            if (stune.Process.HasExited)
            {
                var ended = stune.Wait(Bound);
                Assert.Fail($"stune exited ({ended.ExitCode}) before checkpoint {atLeast}: {ended.Stderr}");
            }
            var runs = await RunIdsAsync();
            if (runs.Count == 1 && await LatestCheckpointAsync(runs[0]) >= atLeast) return runs[0];
            await Task.Delay(200);
        }
        throw new TimeoutException($"no checkpoint {atLeast} within {Bound}");
    }

    async Task<List<string>> RunIdsAsync()
    {
        var ids = new SortedSet<string>(StringComparer.Ordinal);
        await foreach (var item in store.ListAsync("runs/")) ids.Add(item.Path.Split('/')[1]);
        return [.. ids];
    }

    /// <summary>The newest step whose checkpoint is complete: its trainer state is written (and uploaded) last.</summary>
    public async Task<int> LatestCheckpointAsync(string runId)
    {
        var run = ArtifactLayout.Run(runId);
        int latest = 0;
        await foreach (var item in store.ListAsync(run.Checkpoints + "/"))
        {
            string[] parts = item.Path[(run.Checkpoints.Length + 1)..].Split('/');
            if (parts is [var folder, "trainer_state.json"] && folder.StartsWith(RunPaths.CheckpointPrefix, StringComparison.Ordinal)
                && int.TryParse(folder[RunPaths.CheckpointPrefix.Length..], out int step))
                latest = Math.Max(latest, step);
        }
        return latest;
    }

    /// <summary>The trainer's pid, from the execution record the launcher wrote ("pid-N").</summary>
    public async Task<int> TrainerPidAsync(string runId)
    {
        using var execution = JsonDocument.Parse(await store.ReadAllTextAsync(ArtifactLayout.Run(runId).Job("train").Execution));
        string id = execution.RootElement.EnumerateObject().Single(p => p.Name.Equals("executionId", StringComparison.OrdinalIgnoreCase)).Value.GetString()!;
        return int.Parse(id["pid-".Length..]);
    }

    public Task<string> TrainStatusAsync(string runId) => store.ReadAllTextAsync(ArtifactLayout.Run(runId).Job("train").Status);

    public async Task<List<string>> TrainLinesAsync(string runId) =>
        (await store.ReadAllTextAsync(ArtifactLayout.Run(runId).Metrics)).Split('\n').Where(l => l.Contains("\"kind\":\"train\"")).ToList();

    public async Task<byte[]> MergedWeightsAsync(string runId)
    {
        await using var read = await store.OpenReadAsync($"{ArtifactLayout.Run(runId).Merged}/model.safetensors");
        var bytes = new MemoryStream();
        await read.CopyToAsync(bytes);
        return bytes.ToArray();
    }

    public static int Step(string line) => JsonDocument.Parse(line).RootElement.GetProperty("step").GetInt32();
    public static double Loss(string line) => JsonDocument.Parse(line).RootElement.GetProperty("loss").GetDouble();

    /// <summary>Whether the process is gone (a zombie waiting to be reaped counts as gone) within the bound.</summary>
    public static bool WaitUntilGone(int pid)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < Bound)
        {
            string? text = null;
            try { text = File.ReadAllText($"/proc/{pid}/stat"); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            if (text is null || text[(text.LastIndexOf(')') + 2)..].StartsWith('Z')) return true;
            Thread.Sleep(200);
        }
        return false;
    }

    /// <summary>
    /// Asserts that a run continued after interruptions reached exactly what the uninterrupted reference run did:
    /// every step once, in order, the first process's line for step 1 kept byte for byte, the same losses and weights.
    /// </summary>
    public async Task AssertSameAsUninterruptedAsync(string runId, string firstStepLine, RunArtifacts reference, int resumedAfterStep)
    {
        var lines = await TrainLinesAsync(runId);
        Assert.Equal(firstStepLine, lines[0]);
        string referenceRun = Assert.Single(await reference.RunIdsAsync());
        var expected = (await reference.TrainLinesAsync(referenceRun)).Select(Loss).ToList();
        Assert.Equal(Enumerable.Range(1, expected.Count), lines.Select(Step));
        Assert.True(expected.Count > resumedAfterStep, "the run had steps left after the interruption");
        foreach (var (want, got) in expected.Zip(lines.Select(Loss)))
            Assert.Equal(want, got, 1e-9);
        Assert.Equal(await reference.MergedWeightsAsync(referenceRun), await MergedWeightsAsync(runId));
    }
}
