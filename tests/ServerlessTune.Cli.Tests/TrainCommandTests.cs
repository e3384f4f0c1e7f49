using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using ServerlessTune.Core.Modeling;

namespace ServerlessTune.Cli.Tests;

/// <summary>A random llama tiny model, a dozen support conversations, and the repository's tiny training config.</summary>
public sealed class TrainFolder : IDisposable
{
    readonly DirectoryInfo root = Directory.CreateTempSubdirectory("train-cli-");

    public TrainFolder()
    {
        ModelInitializer.Run("llama", "tiny", Model, seed: 3);
        Directory.CreateDirectory(Data);
        string[] facts = ["Hold the dial for ten seconds.", "Two years from purchase.", "The Lumo Home app.", "Up to 800 lumens.",
            "It is made in Portugal.", "Wipe it with a dry cloth.", "2.4 GHz Wi-Fi only.", "Up to fifty lamps."];
        File.WriteAllLines(Path.Combine(Data, "train.jsonl"), facts.Select((a, i) => Line($"Lumo question {i}?", a)));
        File.WriteAllLines(Path.Combine(Data, "validation.jsonl"), facts.Take(3).Select((a, i) => Line($"Hi, Lumo question {i}?", a)));
    }

    public string Model => Path.Combine(root.FullName, "model");
    public string Data => Path.Combine(root.FullName, "data");
    public string NewRun() => Path.Combine(root.FullName, "run-" + Guid.NewGuid().ToString("N")[..6]);

    public static string TinyConfig([CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "../../configs/train/tiny.json"));

    static string Line(string q, string a) => JsonSerializer.Serialize(new
    {
        messages = new[] { new { role = "user", content = q }, new { role = "assistant", content = a } },
    });

    public void Dispose() => root.Delete(recursive: true);
}

public class TrainCommandTests(TrainFolder folder) : IClassFixture<TrainFolder>
{
    string[] Args(string outDir, params string[] extra) =>
        ["train", "--model", folder.Model, "--data", folder.Data, "--out", outDir, "--config", TrainFolder.TinyConfig(),
         "--max-steps", "12", "--checkpoint-every", "2", "--lora-dropout", "0.1", "--threads", "1", .. extra];

    static string Deterministic(string runDir) => string.Join("\n", File.ReadAllLines(Path.Combine(runDir, "metrics.jsonl"))
        .Select(l => JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(l)!)
        .Select(d => string.Join(",", d.Where(kv => kv.Key is not ("tokens_per_second" or "elapsed_seconds")).Select(kv => $"{kv.Key}={kv.Value}"))));

    static byte[] Adapter(string runDir) => File.ReadAllBytes(Path.Combine(runDir, "adapter", "adapter_model.safetensors"));

    [Fact]
    public void Killed_and_terminated_runs_resume_to_the_bits_of_an_uninterrupted_run()
    {
        string reference = folder.NewRun();
        var done = Stune.Run([.. Args(reference), "--json"]);
        Assert.True(done.ExitCode == 0, done.Stderr);
        var json = JsonDocument.Parse(done.Stdout).RootElement;
        Assert.Equal(12, json.GetProperty("steps").GetInt32());
        Assert.True(File.Exists(Path.Combine(reference, "adapter", "adapter_config.json")));

        // SIGKILL: nothing runs after the signal, so the resume starts from the last periodic checkpoint.
        string killed = folder.NewRun();
        RunUntilCheckpoint(killed, "step-4", process => process.Kill());
        Assert.False(Directory.Exists(Path.Combine(killed, "adapter")));
        var resumed = Stune.Run(Args(killed, "--resume"));
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains("resuming from", resumed.Stderr);
        Assert.Equal(Adapter(reference), Adapter(killed));
        Assert.Equal(Deterministic(reference), Deterministic(killed));

        // SIGTERM (what a container runtime sends): the step finishes, a checkpoint is written, exit 130.
        string terminated = folder.NewRun();
        var (exit, stdout) = RunUntilCheckpoint(terminated, "step-2", process => Assert.True(Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit(TimeSpan.FromMinutes(1)), "kill -TERM did not return"));
        Assert.Equal(130, exit);
        Assert.Contains("interrupted", stdout);
        Assert.Equal(0, Stune.Run(Args(terminated, "--resume")).ExitCode);
        Assert.Equal(Adapter(reference), Adapter(terminated));
        Assert.Equal(Deterministic(reference), Deterministic(terminated));
    }

    static readonly TimeSpan Bound = TimeSpan.FromMinutes(5);

    /// <summary>Starts a training run and signals it as soon as the named checkpoint is complete.</summary>
    (int Exit, string Stdout) RunUntilCheckpoint(string outDir, string checkpoint, Action<Process> signal)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "stune.dll"));
        foreach (var a in Args(outDir)) info.ArgumentList.Add(a);
        info.Environment["CI"] = "true";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        string state = Path.Combine(outDir, "checkpoints", checkpoint, "trainer_state.json");
        var clock = Stopwatch.StartNew();
        while (!File.Exists(state) && !process.HasExited && clock.Elapsed < Bound) Thread.Sleep(5);
        // (stderr.Result only in failure messages: reading it waits for the process to end)
        if (process.HasExited) Assert.Fail($"the run ended before it could be interrupted: {stderr.Result}");
        if (!File.Exists(state))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"no checkpoint {checkpoint} within {Bound}: {stderr.Result}");
        }
        signal(process);
        if (!process.WaitForExit(Bound))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"the signalled run did not exit within {Bound}");
        }
        if (File.Exists(Path.Combine(outDir, "checkpoints", "step-12", "trainer_state.json")))
            Assert.Fail($"the run finished before the signal: {stderr.Result}");
        return (process.ExitCode, stdout.Result);
    }

    [Theory]
    [InlineData("--lora-rank", "0", 1, "error: --lora-rank 0: must be from 1 to 65536")]
    [InlineData("--learning-rate", "-1", 1, "error: --learning-rate -1: must be a positive number")]
    [InlineData("--lora-targets", "q_proj,qkv", 1, "error: --lora-targets: no projection named 'qkv' in this model")]
    [InlineData("--lr-schedule", "sawtooth", 2, "usage:")]
    [InlineData("--full", "--lora-rank", 2, "usage:")]
    public void Bad_flags_fail_before_training(string flag, string value, int exitCode, string message)
    {
        string outDir = folder.NewRun();
        string[] extra = flag == "--full" ? ["--full", "--lora-rank", "4"] : [flag, value];
        var result = Stune.Run(Args(outDir, extra));
        Assert.Equal(exitCode, result.ExitCode);
        Assert.Contains(message, result.Stderr);
        Assert.Equal("", result.Stdout);
        Assert.False(File.Exists(Path.Combine(outDir, "metrics.jsonl")));
    }
}
