using System.Diagnostics;

namespace ServerlessTune.Serving.Tests;

public sealed record StuneResult(int ExitCode, string Stdout, string Stderr);

/// <summary>The built stune.dll (copied beside the tests) as a child process, as users run it.</summary>
public static class StuneProcess
{
    public static readonly string Dll = Path.Combine(AppContext.BaseDirectory, "stune.dll");

    public static ProcessStartInfo StartInfo(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment.Remove("STUNE_API_KEY");
        return info;
    }

    public static StuneResult Run(params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"stune {string.Join(' ', args)} did not finish in 5 minutes");
        }
        return new StuneResult(process.ExitCode, stdout.Result, stderr.Result);
    }
}
