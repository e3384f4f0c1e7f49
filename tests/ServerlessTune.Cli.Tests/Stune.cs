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
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(Dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["CI"] = "true";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }
        if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"stune {string.Join(' ', args)} did not finish in 10 minutes");
        }
        return new StuneResult(process.ExitCode, stdout.Result, stderr.Result);
    }
}
