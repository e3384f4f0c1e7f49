using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using ServerlessTune.Core;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Workflow.Steps;

/// <summary>
/// The ResolveBaseModel step: turns the configured base_model into a store folder holding a Hugging Face
/// checkpoint, which is what data preparation, the trainer and evaluation read:
/// - a store folder with config.json is used as it is;
/// - "init:{arch}-{preset}[-seed{N}]" is a randomly initialised model made offline (the embedded default);
/// - a local folder with config.json is copied into models/local/;
/// - a hub id "org/name[@revision]" is downloaded into models/hub/.
/// Copies are made once: a folder counts only when its marker, written last, exists, so a crash mid-copy is redone.
/// </summary>
public sealed partial class ResolveBaseModelStep(IArtifactStore store, HttpClient http)
{
    const string CompleteMarker = ".complete";

    public async Task<string> ResolveAsync(string spec, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(spec)) throw new UserInputException("base_model: empty");
        if (ArtifactPath.IsValid(spec.TrimEnd('/')) && await store.ExistsAsync($"{spec.TrimEnd('/')}/config.json", ct))
            return spec.TrimEnd('/');

        if (InitPattern().Match(spec) is { Success: true } init)
            return await OnceAsync(ArtifactLayout.InitModel($"{init.Groups["arch"].Value}-{init.Groups["preset"].Value}-seed{SeedOf(init)}"), async prefix =>
                await WithTempFolderAsync(async dir =>
                {
                    ModelInitializer.Run(init.Groups["arch"].Value, init.Groups["preset"].Value, dir, SeedOf(init));
                    await store.UploadFolderAsync(dir, prefix, ct);
                }), ct);

        if (Directory.Exists(spec))
        {
            if (!File.Exists(Path.Combine(spec, "config.json")))
                throw new UserInputException($"base_model '{spec}': the folder has no config.json");
            return await OnceAsync(ArtifactLayout.LocalModel(LocalName(spec)), prefix => store.UploadFolderAsync(spec, prefix, ct), ct);
        }

        if (HubModelDownloader.Parse(spec) is { } hub)
            return await OnceAsync(ArtifactLayout.HubModel(hub.Repository, hub.Revision),
                prefix => HubModelDownloader.FromEnvironment(http, store).DownloadAsync(spec, prefix, ct), ct);

        throw new UserInputException(
            $"base_model '{spec}': not a store folder with config.json, an init:<arch>-<preset> model, a local folder or a hub id (org/name)");
    }

    async Task<string> OnceAsync(string prefix, Func<string, Task> make, CancellationToken ct)
    {
        string marker = $"{prefix}/{CompleteMarker}";
        if (await store.ExistsAsync(marker, ct)) return prefix;
        await make(prefix);
        await store.WriteAllTextAsync(marker, "", ct);
        return prefix;
    }

    static long SeedOf(Match init) => init.Groups["seed"].Success ? long.Parse(init.Groups["seed"].Value) : 0;

    /// <summary>The folder's name plus a hash of its files' names, sizes and times: a changed folder gets a new copy.</summary>
    static string LocalName(string folder)
    {
        var full = Path.GetFullPath(folder);
        var identity = new StringBuilder(full);
        foreach (var file in Directory.EnumerateFiles(full, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(file);
            identity.Append('\n').Append(Path.GetRelativePath(full, file)).Append(' ').Append(info.Length).Append(' ').Append(info.LastWriteTimeUtc.Ticks);
        }
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity.ToString())))[..12];
        string name = new string(Path.GetFileName(full.TrimEnd(Path.DirectorySeparatorChar))
            .Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-').ToArray());
        return $"{(name.Length == 0 ? "model" : name)}-{hash}";
    }

    static async Task WithTempFolderAsync(Func<string, Task> use)
    {
        string dir = Directory.CreateTempSubdirectory("stune-base-").FullName;
        try { await use(dir); }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [GeneratedRegex(@"^init:(?<arch>gpt2|gptj|llama|qwen2|phi3)-(?<preset>tiny|small)(-seed(?<seed>\d{1,9}))?$")]
    private static partial Regex InitPattern();
}
