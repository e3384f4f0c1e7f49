using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Modeling.Peft;
using ServerlessTune.Core.Training;

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

    static Task<bool> IsAdapterAsync(IArtifactStore store, string prefix, CancellationToken ct) =>
        store.ExistsAsync($"{prefix}/{PeftAdapterConfig.FileName}", ct);
}
