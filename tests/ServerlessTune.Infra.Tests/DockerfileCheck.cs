using System.Text.RegularExpressions;

namespace ServerlessTune.Infra.Tests;

/// <summary>
/// An image the product deploys (a Dockerfile and the target azure.yaml builds): base images pinned, no secret in
/// ARG or ENV, a non-root user, the CUDA build of the .NET project it publishes, and an ENTRYPOINT whose assembly
/// that project's build output has, where the image copies it.
/// </summary>
public static partial class DockerfileCheck
{
    /// <param name="outputOf">The build output folder of a project file in the repository.</param>
    public static IReadOnlyList<string> Problems(string path, Dockerfile file, string? target, Func<string, string> outputOf)
    {
        if (target is not null && file.Stages.All(s => s.Name != target)) return [$"{path}: no stage {target}"];
        var image = file.Target(target);
        var effective = file.Effective(image);
        var problems = new List<string>();
        var stageNames = file.Stages.Select(s => s.Name).OfType<string>().ToHashSet();
        foreach (var stage in file.Stages.Where(s => !stageNames.Contains(s.Image) && !Pinned().IsMatch(s.Image)))
            problems.Add($"{path}: base image {stage.Image} is not pinned by digest or exact version");

        foreach (var instruction in file.Stages.SelectMany(s => s.Instructions).Where(i => i.Keyword is "ARG" or "ENV"))
            foreach (string name in VariableNames(instruction).Where(n => SecretName().IsMatch(n)))
                problems.Add($"{path}:{instruction.Line}: {instruction.Keyword} {name} puts a secret in the image");

        string? user = effective.LastOrDefault(i => i.Keyword == "USER")?.Arguments.Split(':')[0];
        if (user is null or "root" or "0") problems.Add($"{path}: {image.Name ?? "the final stage"} runs as root (no USER, or USER {user})");

        var publish = file.Stages.SelectMany(s => s.All("RUN")).Select(r => r.Words()).FirstOrDefault(w => w.Take(2).SequenceEqual(["dotnet", "publish"]));
        if (publish is null) return [.. problems, $"{path}: no `dotnet publish` step"];
        if (!publish.Contains("-p:TorchDevice=cuda")) problems.Add($"{path}: the publish step does not build the CUDA TorchSharp runtime (-p:TorchDevice=cuda)");
        string project = publish[2];
        string publishDir = publish[Array.IndexOf(publish, "-o") + 1];

        var entrypoint = effective.LastOrDefault(i => i.Keyword == "ENTRYPOINT")?.ExecForm();
        if (entrypoint is not ["dotnet", var assemblyPath, ..])
            return [.. problems, $"{path}: ENTRYPOINT is not the exec form [\"dotnet\", \"<assembly>.dll\", ...]"];
        string assembly = Path.GetFileName(assemblyPath);
        if (!File.Exists(Path.Combine(outputOf(project), assembly))) problems.Add($"{path}: {assembly} is not in the build output of {project}");
        if (CopiedTo(effective, publishDir) != Path.GetDirectoryName(assemblyPath))
            problems.Add($"{path}: {assemblyPath} is not where the image copies the publish output ({publishDir})");
        return problems;
    }

    /// <summary>Where the image's COPY --from of the publish folder lands (a relative target is under WORKDIR).</summary>
    static string? CopiedTo(IReadOnlyList<Dockerfile.Instruction> instructions, string publishDir)
    {
        string workdir = "/";
        foreach (var instruction in instructions)
        {
            if (instruction.Keyword == "WORKDIR") workdir = instruction.Arguments;
            if (instruction.Keyword != "COPY" || !instruction.Arguments.StartsWith("--from=")) continue;
            var words = instruction.Words();
            if (words[1].TrimEnd('/') != publishDir.TrimEnd('/')) continue;
            string target = words[^1];
            return (target.StartsWith('/') ? target : Path.GetFullPath(Path.Combine(workdir, target))).TrimEnd('/');
        }
        return null;
    }

    // ARG NAME[=default]; ENV NAME=value ... or ENV NAME value.
    static IEnumerable<string> VariableNames(Dockerfile.Instruction instruction) => instruction.Arguments.Contains('=')
        ? instruction.Words().Where(w => w.Contains('=')).Select(w => w[..w.IndexOf('=')])
        : [instruction.Words()[0]];

    // image@sha256:<digest>, or a tag that starts with a full version (10.0.12, 12.8.1-cudnn-runtime-ubuntu24.04).
    [GeneratedRegex(@"(@sha256:[0-9a-f]{64}$)|(:\d+\.\d+\.\d+[^:@/]*$)")]
    private static partial Regex Pinned();

    [GeneratedRegex(@"(^|_)(KEY|SECRET|TOKEN|PASSWORD|PASSWD|PAT)(_|$)", RegexOptions.IgnoreCase)]
    private static partial Regex SecretName();
}
