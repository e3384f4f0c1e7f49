using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using ServerlessTune.Core;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Workflow.Steps;

/// <summary>
/// Downloads a Hugging Face model repository's checkpoint files (config, tokenizer, safetensors, shards)
/// into the store, each file written atomically. The endpoint and token come from the environment the way
/// the huggingface_hub client reads them (HF_ENDPOINT, HF_TOKEN); the token is sent, never logged.
/// </summary>
public sealed partial class HubModelDownloader(HttpClient http, IArtifactStore store, string endpoint, string? token)
{
    public const string DefaultEndpoint = "https://huggingface.co";

    static readonly string[] OptionalFiles =
    [
        "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
        "vocab.json", "merges.txt", "tokenizer.model",
    ];
    static readonly string[] TokenizerFiles = ["tokenizer.json", "vocab.json", "tokenizer.model"];

    public static HubModelDownloader FromEnvironment(HttpClient http, IArtifactStore store) =>
        new(http, store, Environment.GetEnvironmentVariable("HF_ENDPOINT") ?? DefaultEndpoint, Environment.GetEnvironmentVariable("HF_TOKEN"));

    /// <summary>A repository id, optionally with a revision ("org/name" or "org/name@revision"; main by default); null when it is not one.</summary>
    public static (string Repository, string Revision)? Parse(string spec) =>
        HubIdPattern().Match(spec) is { Success: true } match
            ? (match.Groups["repo"].Value, match.Groups["rev"].Success ? match.Groups["rev"].Value : "main")
            : null;

    /// <summary>Downloads <paramref name="hubId"/> into <paramref name="prefix"/>; returns the files written.</summary>
    public async Task<IReadOnlyList<string>> DownloadAsync(string hubId, string prefix, CancellationToken ct = default)
    {
        var (repo, revision) = Parse(hubId) ?? throw new UserInputException($"base_model '{hubId}': not a hub id (org/name or org/name@revision)");

        var written = new List<string>();
        if (!await FetchAsync(repo, revision, "config.json", prefix, ct))
            throw new UserInputException($"base_model '{hubId}': the repository has no config.json (is it a Transformers model?)");
        written.Add("config.json");
        foreach (var file in OptionalFiles)
            if (await FetchAsync(repo, revision, file, prefix, ct)) written.Add(file);
        if (!written.Intersect(TokenizerFiles).Any())
            throw new UserInputException($"base_model '{hubId}': no tokenizer file ({string.Join(", ", TokenizerFiles)})");

        if (await FetchAsync(repo, revision, "model.safetensors", prefix, ct))
        {
            written.Add("model.safetensors");
            return written;
        }
        if (!await FetchAsync(repo, revision, "model.safetensors.index.json", prefix, ct))
            throw new UserInputException($"base_model '{hubId}': no model.safetensors or model.safetensors.index.json (only safetensors checkpoints are supported)");
        written.Add("model.safetensors.index.json");
        foreach (var shard in await ShardNamesAsync(prefix, hubId, ct))
        {
            if (!await FetchAsync(repo, revision, shard, prefix, ct))
                throw new UserInputException($"base_model '{hubId}': shard {shard} listed in model.safetensors.index.json is missing");
            written.Add(shard);
        }
        return written;
    }

    /// <summary>Streams one file into the store; false when the repository does not have it (404).</summary>
    async Task<bool> FetchAsync(string repo, string revision, string file, string prefix, CancellationToken ct)
    {
        var url = $"{endpoint.TrimEnd('/')}/{repo}/resolve/{Uri.EscapeDataString(revision)}/{file}";
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (!string.IsNullOrEmpty(token)) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return false;
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            throw new UserInputException($"base_model '{repo}': access denied to {file} ({(int)response.StatusCode}); set HF_TOKEN for gated or private models");
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"GET {repo}/{file}: {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        await store.WriteAsync(ArtifactPath.Combine(prefix, file), (target, token) => body.CopyToAsync(target, token), ct);
        return true;
    }

    async Task<IReadOnlyList<string>> ShardNamesAsync(string prefix, string hubId, CancellationToken ct)
    {
        using var index = JsonDocument.Parse(await store.ReadAllTextAsync(ArtifactPath.Combine(prefix, "model.safetensors.index.json"), ct));
        if (!index.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            throw new UserInputException($"base_model '{hubId}': model.safetensors.index.json has no weight_map object");
        var shards = map.EnumerateObject().Select(p => p.Value.GetString() ?? "").Distinct().Order(StringComparer.Ordinal).ToList();
        // Shard names become store paths and URLs: plain file names only.
        foreach (var shard in shards)
            if (shard.Length == 0 || shard.Contains('/') || !ArtifactPath.IsValid(shard) || !shard.EndsWith(".safetensors", StringComparison.Ordinal))
                throw new UserInputException($"base_model '{hubId}': model.safetensors.index.json names an invalid shard '{shard}'");
        return shards;
    }

    [GeneratedRegex(@"^(?<repo>[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95})(@(?<rev>[A-Za-z0-9_.-]{1,64}))?$")]
    private static partial Regex HubIdPattern();
}
