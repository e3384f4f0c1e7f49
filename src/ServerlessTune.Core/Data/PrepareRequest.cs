using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Data;

/// <summary>
/// One input file: where it lives and its path there (the path also names it in rejects and stats). A refused input
/// (an unsafe link, see <see cref="LocalInputs"/>) is never opened: it is one rejected record with that reason.
/// </summary>
public sealed record PrepareInput(IArtifactStore Store, string Path, Rejection? Refused = null);

/// <summary>
/// What to prepare and where to put it. Outputs go to <see cref="OutputStore"/> under <see cref="OutputPrefix"/>
/// (e.g. "prepared/{runId}/"; empty for the root of the store). Without an output store the run is a dry run: it
/// reads, maps and counts everything and writes nothing (`stune prepare --dry-run`).
/// </summary>
public sealed record PrepareRequest(IReadOnlyList<PrepareInput> Inputs, IArtifactStore? OutputStore, string OutputPrefix, PrepareOptions Options)
{
    /// <summary>The account of the feedback records behind one of the inputs, written into stats.json.</summary>
    public Feedback.FeedbackStats? Feedback { get; init; }

    /// <summary>The pipeline's case: every data file under a store prefix (e.g. datasets/{project}/), in ordinal order.</summary>
    public static async Task<PrepareRequest> FromStorePrefixAsync(IArtifactStore store, string inputPrefix, string outputPrefix,
        PrepareOptions options, CancellationToken ct = default)
    {
        var inputs = new List<PrepareInput>();
        await foreach (var item in store.ListAsync(inputPrefix, ct))
            if (IsDataFile(item.Path) && !item.Path[inputPrefix.Length..].StartsWith(EvaluationFolder, StringComparison.Ordinal))
                inputs.Add(new PrepareInput(store, item.Path));
        return new PrepareRequest(inputs, store, outputPrefix, options);
    }

    /// <summary>Evaluation suites and dialogue scripts sit here, beside the data; they must never be trained on.</summary>
    public const string EvaluationFolder = "eval/";

    /// <summary>Skips the pipeline config and hidden files that sit beside the data.</summary>
    public static bool IsDataFile(string path)
    {
        string name = path[(path.LastIndexOf('/') + 1)..];
        return !name.StartsWith('.') && !name.Equals("pipeline.json", StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>Reported while reading: bytes of input consumed so far (all files) and records seen.</summary>
public readonly record struct PrepareProgress(string CurrentFile, long BytesRead, long Records);
