namespace ServerlessTune.Infra.Tests;

public sealed class DockerfileTests
{
    static string OutputOf(string project) => Path.GetFileName(project) switch
    {
        "ServerlessTune.Trainer.csproj" => Repository.TrainerOutput,
        "ServerlessTune.Cli.csproj" => Repository.CliOutput,
        var other => throw new InvalidOperationException($"no build output known for {other}"),
    };

    [Fact]
    public void Every_image_azd_builds_is_pinned_secret_free_non_root_CUDA_and_runs_a_built_assembly()
    {
        var images = AzureYaml.Load().Services.Where(s => s.Dockerfile is not null).ToList();
        Assert.Equal(["serving", "trainer"], images.Select(s => s.Target).Order());
        foreach (var service in images)
        {
            string path = Path.Combine(service.ProjectFolder, service.Dockerfile!);
            Assert.Empty(DockerfileCheck.Problems(Path.GetRelativePath(Repository.Root, path), Dockerfile.Parse(File.ReadAllText(path)), service.Target, OutputOf));
        }
    }

    [Fact]
    public void A_floating_base_a_secret_root_a_CPU_build_and_a_missing_assembly_are_reported()
    {
        var file = Dockerfile.Parse("""
            FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
            ARG HF_TOKEN
            RUN dotnet publish src/ServerlessTune.Trainer/ServerlessTune.Trainer.csproj \
                -c Release -o /out
            FROM nvidia/cuda:latest
            ENV STUNE_API_KEY=abc MODE=x
            COPY --from=build /out /srv
            ENTRYPOINT ["dotnet", "/srv/trainer.dll"]
            """);

        Assert.Equal(
        [
            "bad/Dockerfile: base image mcr.microsoft.com/dotnet/sdk:10.0 is not pinned by digest or exact version",
            "bad/Dockerfile: base image nvidia/cuda:latest is not pinned by digest or exact version",
            "bad/Dockerfile:2: ARG HF_TOKEN puts a secret in the image",
            "bad/Dockerfile:6: ENV STUNE_API_KEY puts a secret in the image",
            "bad/Dockerfile: the final stage runs as root (no USER, or USER )",
            "bad/Dockerfile: the publish step does not build the CUDA TorchSharp runtime (-p:TorchDevice=cuda)",
            "bad/Dockerfile: trainer.dll is not in the build output of src/ServerlessTune.Trainer/ServerlessTune.Trainer.csproj",
        ], DockerfileCheck.Problems("bad/Dockerfile", file, null, OutputOf));
        Assert.Equal(["bad/Dockerfile: no stage serving"], DockerfileCheck.Problems("bad/Dockerfile", file, "serving", OutputOf));
    }

    [Fact]
    public void A_digest_or_a_full_version_pins_and_a_copy_to_elsewhere_is_reported()
    {
        var file = Dockerfile.Parse("""
            FROM mcr.microsoft.com/dotnet/sdk@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef AS build
            RUN dotnet publish src/ServerlessTune.Trainer/ServerlessTune.Trainer.csproj -p:TorchDevice=cuda -o /app
            FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04 AS base
            WORKDIR /app
            COPY --from=build /app .
            USER 1000:1000
            FROM base AS job
            ENTRYPOINT ["dotnet", "/app/stune-trainer.dll"]
            FROM base AS elsewhere
            ENTRYPOINT ["dotnet", "/srv/stune-trainer.dll"]
            """);
        Assert.Empty(DockerfileCheck.Problems("good/Dockerfile", file, "job", OutputOf));
        Assert.Equal(["good/Dockerfile: /srv/stune-trainer.dll is not where the image copies the publish output (/app)"],
            DockerfileCheck.Problems("good/Dockerfile", file, "elsewhere", OutputOf));
    }

    [Fact]
    public void The_build_context_leaves_out_the_azd_environment_local_settings_and_build_output()
    {
        var ignored = File.ReadAllLines(Path.Combine(Repository.Root, ".dockerignore")).Where(l => l.Length > 0 && !l.StartsWith('#')).ToHashSet();
        Assert.Superset(new HashSet<string> { ".git", ".azure", "local.settings.json", "**/bin", "**/obj", "node_modules" }, ignored);
    }
}
