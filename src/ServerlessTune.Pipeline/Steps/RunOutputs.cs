using ServerlessTune.Core.Modeling.Peft;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Training;

namespace ServerlessTune.Pipeline.Steps;

/// <summary>Where a run's fine-tuned model is: its PEFT adapter, or a complete checkpoint when every weight was trained.</summary>
public static class RunOutputs
{
    public sealed record FineTuned(string Prefix, bool IsAdapter);

    public static async Task<FineTuned> FineTunedAsync(IArtifactStore store, string runId, CancellationToken ct = default)
    {
        string merged = $"runs/{ArtifactPath.ValidateName(runId, "run id")}/{FineTuneRecipe.MergedFolder}";
        string adapter = $"runs/{runId}/{FineTuneRecipe.AdapterFolder}";
        // A LoRA run with --merge writes both; the adapter is the smaller thing to serve.
        return !await IsAdapterAsync(store, adapter, ct) && await store.ExistsAsync($"{merged}/config.json", ct)
            ? new FineTuned(merged, IsAdapter: false)
            : new FineTuned(adapter, IsAdapter: true);
    }

    /// <summary>What a registered folder holds: a PEFT adapter, or else a complete checkpoint.</summary>
    public static async Task<FineTuned> OfAsync(IArtifactStore store, string prefix, CancellationToken ct = default) =>
        new(prefix, await IsAdapterAsync(store, prefix, ct));

    static Task<bool> IsAdapterAsync(IArtifactStore store, string prefix, CancellationToken ct) =>
        store.ExistsAsync($"{prefix}/{PeftAdapterConfig.FileName}", ct);
}
