using System.Diagnostics;

namespace ServerlessTune.Cli.Tests;

public sealed record StuneResult(int ExitCode, string Stdout, string Stderr);

/// <summary>Runs the built stune.dll (copied beside the tests) in a child process.</summary>
public static class Stune
{
    static readonly string Dll = Path.Combine(AppContext.BaseDirectory, "stune.dll");

    public static StuneResult Run(params string[] args) => Run(args, workingDirectory: null);

    /// <param name="environment">Variables set for the child (on top of this process's).</param>
    public static StuneResult Run(IEnumerable<string> args, string? workingDirectory, string? stdin = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        using var running = Start(args, workingDirectory, stdin is not null, environment);
        if (stdin is not null)
        {
            running.Process.StandardInput.Write(stdin);
            running.Process.StandardInput.Close();
        }
        return running.Wait(TimeSpan.FromMinutes(10));
    }

    /// <summary>Starts stune and returns while it runs, for tests that signal or kill it.</summary>
    public static RunningStune Start(IEnumerable<string> args, string? workingDirectory = null, bool redirectStdin = false,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectStdin,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(Dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["CI"] = "true";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        return new RunningStune(Process.Start(info)!, string.Join(' ', args));
    }
}

public sealed class RunningStune : IDisposable
{
    readonly Task<string> _stdout, _stderr;
    readonly string _command;

    internal RunningStune(Process process, string command)
    {
        Process = process;
        _command = command;
        _stdout = process.StandardOutput.ReadToEndAsync();
        _stderr = process.StandardError.ReadToEndAsync();
    }

    public Process Process { get; }

    public StuneResult Wait(TimeSpan bound)
    {
        if (!Process.WaitForExit(bound))
        {
            Process.Kill(entireProcessTree: true);
            throw new TimeoutException($"stune {_command} did not finish in {bound}");
        }
        return new StuneResult(Process.ExitCode, _stdout.Result, _stderr.Result);
    }

    public void Dispose()
    {
        if (!Process.HasExited) Process.Kill(entireProcessTree: true);
        Process.Dispose();
    }
}
