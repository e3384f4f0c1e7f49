using System.Diagnostics;

namespace ServerlessTune.Infra.Tests;

/// <summary>The pinned Bicep CLI (Azure.Bicep.CommandLine.linux-x64 from the NuGet cache), run as a child process.</summary>
public static class Bicep
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo(Repository.BicepPath)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in args) start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', args)} did not finish in 3 minutes");
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>
    /// What ARM would deploy: `bicep snapshot` compiles the template, expands every module and evaluates every
    /// expression that does not need a live resource (names, ids, parameters, conditions). Runtime values
    /// (reference(), listKeys()) stay ARM expressions.
    /// </summary>
    public static Snapshot Evaluate(string template, IReadOnlyDictionary<string, string> parameters) =>
        EvaluateIn(template, string.Concat(parameters.Select(p => $"param {p.Key} = {p.Value}\n")), null);

    /// <summary>The snapshot of a parameters file of the repository, with the environment it reads.</summary>
    public static Snapshot EvaluateParameters(string paramsFile, IReadOnlyDictionary<string, string> environment)
    {
        var lines = File.ReadAllLines(paramsFile);
        string template = Path.Combine(Path.GetDirectoryName(paramsFile)!, UsingPath(lines));
        return EvaluateIn(template, string.Join('\n', lines.Where(l => !l.StartsWith("using "))), environment);
    }

    static string UsingPath(string[] lines) =>
        lines.Single(l => l.StartsWith("using ")).Split('\'')[1];

    static Snapshot EvaluateIn(string template, string body, IReadOnlyDictionary<string, string>? environment)
    {
        string folder = Directory.CreateTempSubdirectory("stune-bicep-").FullName;
        try
        {
            string paramsFile = Path.Combine(folder, "ci.bicepparam");
            // A parameters file names its template by a relative path.
            File.WriteAllText(paramsFile, $"using '{Path.GetRelativePath(folder, template)}'\n{body}\n");
            var result = Run(folder, environment, "snapshot", paramsFile, "--mode", "overwrite",
                "--subscription-id", Snapshot.SubscriptionId, "--resource-group", Snapshot.ResourceGroup, "--location", "eastus");
            Assert.True(result.ExitCode == 0, $"bicep snapshot {template} failed:\n{result.Stderr}{result.Stdout}");
            return Snapshot.Parse(File.ReadAllText(Path.Combine(folder, "ci.snapshot.json")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
