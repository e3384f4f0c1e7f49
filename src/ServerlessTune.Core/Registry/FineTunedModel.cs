using System.Text.Json.Nodes;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Modeling.Peft;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Registry;

/// <summary>
/// What a run trained, as a store prefix: its PEFT adapter (applied to the base model), or a complete checkpoint
/// when every weight was trained. A registered version's <see cref="ModelVersion.Adapter"/> is one of these.
/// </summary>
public sealed record FineTunedModel(string Prefix, bool IsAdapter)
{
    public static async Task<FineTunedModel> OfRunAsync(IArtifactStore store, string runId, CancellationToken ct = default)
    {
        var run = ArtifactLayout.Run(runId);
        // A LoRA run with --merge writes both; the adapter is the smaller thing to serve.
        return !await IsAdapterAsync(store, run.Adapter, ct) && await store.ExistsAsync($"{run.Merged}/config.json", ct)
            ? new FineTunedModel(run.Merged, IsAdapter: false)
            : new FineTunedModel(run.Adapter, IsAdapter: true);
    }

    /// <summary>What a registered folder holds: a PEFT adapter, or else a complete checkpoint.</summary>
    public static async Task<FineTunedModel> AtAsync(IArtifactStore store, string prefix, CancellationToken ct = default) =>
        new(prefix, await IsAdapterAsync(store, prefix, ct));

    /// <summary>
    /// Checks that the folder holds a model that loads: its config parses (adapter_config.json or config.json) and
    /// every weights file it needs is there with a valid safetensors header fitting its size. Header-level, so the
    /// Functions app (no libtorch) can run it before it registers what a job wrote.
    /// </summary>
    public async Task VerifyAsync(IArtifactStore store, CancellationToken ct = default)
    {
        using var local = new LocalArtifacts(store);
        if (IsAdapter)
        {
            string config = await RequiredFileAsync(store, local, $"{Prefix}/{PeftAdapterConfig.FileName}", ct);
            PeftAdapterConfig.Read(Path.GetDirectoryName(config)!);
            await VerifyWeightsAsync(store, $"{Prefix}/{PeftAdapter.WeightsFile}", ct);
            return;
        }
        ModelConfig.Load(await RequiredFileAsync(store, local, $"{Prefix}/config.json", ct));
        string index = $"{Prefix}/{Checkpoint.IndexFile}";
        var files = await store.ExistsAsync(index, ct) ? ShardsOf(await store.ReadAllTextAsync(index, ct), index) : [Checkpoint.WeightsFile];
        foreach (var file in files)
            await VerifyWeightsAsync(store, ArtifactPath.Combine(Prefix, file), ct);
    }

    static async Task<string> RequiredFileAsync(IArtifactStore store, LocalArtifacts local, string path, CancellationToken ct) =>
        await store.ExistsAsync(path, ct) ? await local.FileAsync(path, ct) : throw new UserInputException($"{path}: missing in {store.Location}: the job wrote no model there");

    static async Task VerifyWeightsAsync(IArtifactStore store, string path, CancellationToken ct)
    {
        long? size = null;
        await foreach (var item in store.ListAsync(path, ct))
            if (item.Path == path) size = item.Size;
        if (size is null) throw new UserInputException($"{path}: missing in {store.Location}: the job wrote no weights there");
        await using var stream = await store.OpenReadAsync(path, ct);
        SafetensorsHeader.Read(stream, size.Value, path);
    }

    static IEnumerable<string> ShardsOf(string json, string index)
    {
        try
        {
            var map = JsonNode.Parse(json)?["weight_map"] as JsonObject ?? throw new UserInputException($"{index}: key 'weight_map': missing or not an object");
            return map.Select(kv => kv.Value?.GetValue<string>() ?? "").Distinct().ToList();
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            throw new UserInputException($"{index}: not a checkpoint index: {e.Message}", e);
        }
    }

    static Task<bool> IsAdapterAsync(IArtifactStore store, string prefix, CancellationToken ct) =>
        store.ExistsAsync($"{prefix}/{PeftAdapterConfig.FileName}", ct);
}
