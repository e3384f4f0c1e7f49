using ServerlessTune.Core.Feedback;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Workflow.Steps;

/// <summary>
/// After Deploy: the project's monitoring dashboard (the page `stune monitor --html` writes: every served version per day, from
/// the conversation and feedback logs) into reports/{runId}/dashboard.html beside the evaluation report, so each deployment
/// leaves a record of how the versions before it did in use.
/// </summary>
public sealed class DashboardStep(IArtifactStore store)
{
    public async Task<string> RunAsync(DashboardInput input, CancellationToken ct = default)
    {
        var usage = await UsageMetrics.ReadAsync(store, input.Project, since: null, ct);
        string path = ArtifactLayout.Report(input.RunId).Dashboard;
        await store.WriteAllTextAsync(path, UsageDashboard.Render(usage), ct);
        return path;
    }
}
