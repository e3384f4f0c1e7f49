using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace ServerlessTune.Cli.Tests;

/// <summary>
/// `stune run` (the real executable, its real trainer child) killed with SIGKILL and stopped with SIGTERM during
/// training, then started again: no trainer outlives it, and the run continues from its checkpoints to exactly the
/// weights and losses of a run nobody interrupted.
/// </summary>
public sealed class RunInterruptionTests : IDisposable
{
    // Upper bounds only, so a regression fails in minutes instead of hanging; nothing is asserted about speed.
    static readonly TimeSpan Bound = TimeSpan.FromMinutes(8);
    const int SIGTERM = 15;
    readonly string _root = Directory.CreateTempSubdirectory("stune-interrupt-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void A_killed_then_stopped_run_resumes_to_the_weights_of_an_uninterrupted_run_and_leaves_no_trainer()
    {
        string dataset = Dataset();
        string referenceStore = Path.Combine(_root, "reference"), store = Path.Combine(_root, "store");
        var reference = Stune.Run(["run", dataset, "--store", referenceStore], null);
        Assert.True(reference.ExitCode == 0, reference.Stderr);

        string runId;
        string firstStepLine;
        using (var first = Stune.Start(["run", dataset, "--store", store]))
        {
            runId = WaitForCheckpoint(store, first, atLeast: 1);
            int trainer = TrainerPid(store, runId);
            first.Process.Kill(); // SIGKILL of stune alone: no handler runs, the trainer is not signalled
            first.Wait(Bound);
            Assert.True(WaitUntilGone(trainer), $"trainer {trainer} outlived its killed parent");
            // It noticed its parent's death and checkpointed as on SIGTERM.
            Assert.Contains("\"interrupted\"", File.ReadAllText(Path.Combine(store, "runs", runId, "jobs", "train", "status.json")));
            firstStepLine = TrainLines(store, runId)[0];
        }

        int stoppedAt;
        using (var second = Stune.Start(["run", dataset, "--store", store]))
        {
            int before = LatestCheckpoint(store, runId);
            Assert.Equal(runId, WaitForCheckpoint(store, second, atLeast: before + 1));
            int trainer = TrainerPid(store, runId);
            Assert.Equal(0, kill(second.Process.Id, SIGTERM));
            var stopped = second.Wait(Bound);
            Assert.Equal(130, stopped.ExitCode);
            Assert.Contains($"run {runId} of project acme did not finish on the same files and options: continuing it", stopped.Stderr);
            Assert.Contains($"continue it with: stune run --resume {runId} --store {store}", stopped.Stderr);
            Assert.DoesNotContain("   at ", stopped.Stderr);
            Assert.True(WaitUntilGone(trainer), $"trainer {trainer} outlived a stopped run");
            stoppedAt = LatestCheckpoint(store, runId);
            Assert.True(stoppedAt > before);
        }

        var resumed = Stune.Run(["run", "--resume", runId, "--store", store], null);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains($"run {runId}: Completed", resumed.Stdout);

        // Continued, not restarted: the first process's line for step 1 is still there, byte for byte.
        var lines = TrainLines(store, runId);
        Assert.Equal(firstStepLine, lines[0]);
        string referenceRun = Directory.GetDirectories(Path.Combine(referenceStore, "runs")).Single();
        var expected = TrainLines(referenceStore, Path.GetFileName(referenceRun)).Select(Loss).ToList();
        Assert.Equal(Enumerable.Range(1, expected.Count), lines.Select(Step));
        Assert.True(expected.Count > stoppedAt, "the run had steps left after the stop");
        foreach (var (want, got) in expected.Zip(lines.Select(Loss)))
            Assert.Equal(want, got, 1e-9);
        Assert.Equal(File.ReadAllBytes(Path.Combine(referenceRun, "merged", "model.safetensors")),
            File.ReadAllBytes(Path.Combine(store, "runs", runId, "merged", "model.safetensors")));
    }

    string Dataset()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_root, "acme")).FullName;
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

    /// <summary>Waits until the run being trained has a complete checkpoint at or past the step; returns the run id.</summary>
    static string WaitForCheckpoint(string store, RunningStune stune, int atLeast)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < Bound)
        {
            if (stune.Process.HasExited)
            {
                var ended = stune.Wait(Bound);
                Assert.Fail($"stune exited ({ended.ExitCode}) before checkpoint {atLeast}: {ended.Stderr}");
            }
            string runs = Path.Combine(store, "runs");
            if (Directory.Exists(runs) && Directory.GetDirectories(runs).SingleOrDefault() is { } run && LatestCheckpoint(store, Path.GetFileName(run)) >= atLeast)
                return Path.GetFileName(run);
            Thread.Sleep(200);
        }
        throw new TimeoutException($"no checkpoint {atLeast} within {Bound}");
    }

    static int LatestCheckpoint(string store, string runId)
    {
        string folder = Path.Combine(store, "runs", runId, "checkpoints");
        if (!Directory.Exists(folder)) return 0;
        return Directory.GetDirectories(folder).Select(Path.GetFileName)
            .Select(name => name!.StartsWith("step-") && int.TryParse(name[5..], out int step) ? step : 0).DefaultIfEmpty(0).Max();
    }

    /// <summary>The trainer's pid, from the execution record the launcher wrote ("pid-N").</summary>
    static int TrainerPid(string store, string runId)
    {
        using var execution = JsonDocument.Parse(File.ReadAllText(Path.Combine(store, "runs", runId, "jobs", "train", "execution.json")));
        string id = execution.RootElement.EnumerateObject().Single(p => p.Name.Equals("executionId", StringComparison.OrdinalIgnoreCase)).Value.GetString()!;
        return int.Parse(id["pid-".Length..]);
    }

    /// <summary>Whether the process is gone (a zombie waiting to be reaped counts as gone) within the bound.</summary>
    static bool WaitUntilGone(int pid)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < Bound)
        {
            string stat = $"/proc/{pid}/stat";
            string? text = null;
            try { text = File.ReadAllText(stat); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            if (text is null || text[(text.LastIndexOf(')') + 2)..].StartsWith('Z')) return true;
            Thread.Sleep(200);
        }
        return false;
    }

    static List<string> TrainLines(string store, string runId) =>
        File.ReadAllLines(Path.Combine(store, "runs", runId, "metrics.jsonl")).Where(l => l.Contains("\"kind\":\"train\"")).ToList();

    static int Step(string line) => JsonDocument.Parse(line).RootElement.GetProperty("step").GetInt32();
    static double Loss(string line) => JsonDocument.Parse(line).RootElement.GetProperty("loss").GetDouble();

    [DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int sig);
}
