using System.Text.Json;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Evaluation;

/// <summary>
/// runs/{runId}/eval/{family}.json: what the evaluation job measured, one file per metric family, read back by
/// the Gate step. The report's JSON settings apply (a diverged model's perplexity is Infinity).
/// </summary>
public static class EvaluationOutputs
{
    public static Task WriteAsync(IArtifactStore store, string runId, FamilyResult result, CancellationToken ct = default) =>
        store.WriteAllTextAsync(ArtifactLayout.Run(runId).Evaluation(result.Family), Serialize(result), ct);

    public static string Serialize(FamilyResult result) => JsonSerializer.Serialize(result, ReportJson.Options);

    public static Task<bool> ExistsAsync(IArtifactStore store, string runId, string family, CancellationToken ct = default) =>
        store.ExistsAsync(ArtifactLayout.Run(runId).Evaluation(family), ct);

    /// <summary>Every requested family's outputs; a family the job did not write is an error naming its file.</summary>
    public static async Task<IReadOnlyList<FamilyOutput>> ReadAsync(IArtifactStore store, string runId, IEnumerable<string> families,
        CancellationToken ct = default)
    {
        var outputs = new List<FamilyOutput>();
        foreach (var family in families)
        {
            string path = ArtifactLayout.Run(runId).Evaluation(family);
            FamilyResult? result;
            try { result = JsonSerializer.Deserialize<FamilyResult>(await store.ReadAllTextAsync(path, ct), ReportJson.Options); }
            catch (JsonException e) { throw new InvalidDataException($"{path}: not an evaluation output: {e.Message}", e); }
            if (result is null || result.Family != family)
                throw new InvalidDataException($"{path}: holds {(result is null ? "nothing" : $"the family '{result.Family}'")}, expected '{family}'");
            outputs.AddRange(result.Outputs);
        }
        return outputs;
    }
}
