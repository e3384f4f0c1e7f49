using ServerlessTune.Core;
using ServerlessTune.Core.Feedback;
using ServerlessTune.Core.PipelineConfig;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Workflow.Api;

/// <summary>
/// One project's answer to "is a run due for new feedback?". Due when pipeline.json sets feedback.retrain_after and at least
/// that many conversations were rated since the project's last run read the logs (<see cref="FeedbackCutoff"/>).
/// </summary>
/// <param name="Threshold">feedback.retrain_after; null when pipeline.json sets none (never due).</param>
/// <param name="Cutoff">When the last run read the feedback log; null when no run has.</param>
/// <param name="Options">The project's stored pipeline.json, parsed (null when it could not be).</param>
/// <param name="Reason">Why it is due or not, one line.</param>
public sealed record RetrainCheck(string Project, int? Threshold, int NewRatings, DateTimeOffset? Cutoff, bool Due, string Reason,
    PipelineOptions? Options, string OptionsSource);

/// <summary>A project's check and, when it was due, what starting its run gave.</summary>
/// <typeparam name="T">What the host's start returns: a run id (Functions), or the finished run (`stune retrain`).</typeparam>
public sealed record RetrainOutcome<T>(RetrainCheck Check, T? Run);

/// <summary>
/// What `stune retrain` and the timer-triggered function share: which projects in the store have enough new ratings for a
/// run, read from each project's stored dataset folder (datasets/{project}/pipeline.json, as the blob trigger reads it), and
/// a start for each that is due. How a run starts is the host's (the embedded runner, or the Durable client).
/// </summary>
/// <param name="runInProgress">The project's run that is still going, if the host can tell (a project with one is not due).</param>
public sealed class RetrainService(IArtifactStore store, Func<string, CancellationToken, Task<string?>>? runInProgress = null)
{
    /// <summary>Every project with a dataset folder (or the one named), checked; a project whose pipeline.json is bad is not due and says why.</summary>
    public async Task<IReadOnlyList<RetrainCheck>> CheckAsync(string? project = null, CancellationToken ct = default)
    {
        var projects = project is not null ? [ArtifactPath.ValidateName(project, "project")] : await ProjectsAsync(ct);
        var checks = new List<RetrainCheck>();
        foreach (var name in projects) checks.Add(await CheckProjectAsync(name, ct));
        return checks;
    }

    /// <summary>Checks every project (or the one named) and starts a run, one after another, for each that is due.</summary>
    public async Task<IReadOnlyList<RetrainOutcome<T>>> StartDueAsync<T>(Func<RetrainCheck, CancellationToken, Task<T>> start, string? project = null,
        CancellationToken ct = default)
    {
        var outcomes = new List<RetrainOutcome<T>>();
        foreach (var check in await CheckAsync(project, ct))
            outcomes.Add(new(check, check.Due ? await start(check, ct) : default));
        return outcomes;
    }

    async Task<RetrainCheck> CheckProjectAsync(string project, CancellationToken ct)
    {
        string source = ArtifactLayout.Dataset(project).Config;
        PipelineOptions options;
        try
        {
            options = await store.ExistsAsync(source, ct) ? PipelineOptionsParser.Parse(await store.ReadAllTextAsync(source, ct), source) : new PipelineOptions();
        }
        catch (UserInputException e)
        {
            return new(project, null, 0, null, false, e.Message, null, source);
        }
        RetrainCheck Check(int newRatings, DateTimeOffset? cutoff, bool due, string reason) =>
            new(project, options.Feedback.RetrainAfter, newRatings, cutoff, due, reason, options, source);
        if (options.Feedback.RetrainAfter is not { } threshold)
            return Check(0, null, false, $"{source} sets no feedback.retrain_after");
        var cutoff = await FeedbackCutoff.ReadAsync(store, project, ct);
        int count = await FeedbackCutoff.NewRatingsAsync(store, project, options.Feedback, cutoff?.ReadFrom, ct);
        string since = cutoff is null ? "in the log (no run has read it yet)" : $"since run {cutoff.RunId} read the log ({cutoff.ReadFrom:u})";
        string counted = $"{count} conversation(s) rated {since}, retrain_after {threshold}";
        if (count < threshold) return Check(count, cutoff?.ReadFrom, false, counted);
        if (runInProgress is not null && await runInProgress(project, ct) is { } going)
            return Check(count, cutoff?.ReadFrom, false, $"{counted}; run {going} is in progress");
        return Check(count, cutoff?.ReadFrom, true, counted);
    }

    async Task<IReadOnlyList<string>> ProjectsAsync(CancellationToken ct)
    {
        var projects = new SortedSet<string>(StringComparer.Ordinal);
        await foreach (var file in store.ListAsync(ArtifactLayout.Datasets, ct))
            if (file.Path[ArtifactLayout.Datasets.Length..].Split('/') is [var name, _, ..] && ArtifactPath.IsValidName(name)) projects.Add(name);
        return [.. projects];
    }
}
