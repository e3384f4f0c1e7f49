using Microsoft.DurableTask.Client;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Workflow.Api;

/// <summary>What the status and list endpoints show about a run.</summary>
public sealed record RunView(
    string RunId,
    string? Project,
    string RuntimeStatus,
    PipelineStatus? Progress,
    PipelineResult? Result,
    string? Error,
    DateTimeOffset CreatedUtc,
    DateTimeOffset LastUpdatedUtc);

public sealed class RunQueries(DurableTaskClient client)
{
    public const int MaxListed = 100;

    public async Task<RunView?> GetAsync(string runId, CancellationToken ct = default)
    {
        var metadata = await client.GetInstanceAsync(RunRequests.RunId(runId), getInputsAndOutputs: true, ct);
        return metadata is null ? null : View(metadata);
    }

    /// <summary>The most recent runs of the pipeline, newest first, optionally of one project.</summary>
    public async Task<IReadOnlyList<RunView>> ListAsync(string? project, CancellationToken ct = default)
    {
        if (project is not null) ArtifactPath.ValidateName(project, "project");
        var runs = new List<RunView>();
        await foreach (var metadata in client.GetAllInstancesAsync(new OrchestrationQuery { FetchInputsAndOutputs = true, PageSize = MaxListed }).WithCancellation(ct))
        {
            if (metadata.Name != PipelineNames.Orchestrator) continue;
            var view = View(metadata);
            if (project is null || view.Project == project) runs.Add(view);
        }
        return runs.OrderByDescending(r => r.CreatedUtc).Take(MaxListed).ToList();
    }

    /// <summary>Whether the run exists and has not ended (pending, running or suspended): it holds its project.</summary>
    public async Task<bool> IsGoingAsync(string runId, CancellationToken ct = default) =>
        await client.GetInstanceAsync(runId, ct) is { IsCompleted: false };

    /// <summary>The project's most recent run that has not ended, if any (among the runs <see cref="ListAsync"/> sees).</summary>
    public async Task<string?> GoingRunAsync(string project, CancellationToken ct = default) =>
        (await ListAsync(project, ct)).FirstOrDefault(r => r.RuntimeStatus is nameof(OrchestrationRuntimeStatus.Pending)
            or nameof(OrchestrationRuntimeStatus.Running) or nameof(OrchestrationRuntimeStatus.Suspended))?.RunId;

    /// <summary>Whether the run is waiting at a manual gate (only then does an approval mean anything).</summary>
    public async Task<bool> IsAwaitingApprovalAsync(string runId, CancellationToken ct = default) =>
        await GetAsync(runId, ct) is { RuntimeStatus: "Running", Progress.Step: "AwaitingApproval" };

    static RunView View(OrchestrationMetadata metadata) => new(
        metadata.InstanceId,
        metadata.ReadInputAs<PipelineInput>()?.Project,
        metadata.RuntimeStatus.ToString(),
        metadata.ReadCustomStatusAs<PipelineStatus>(),
        metadata.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? metadata.ReadOutputAs<PipelineResult>() : null,
        metadata.FailureDetails?.ErrorMessage,
        metadata.CreatedAt,
        metadata.LastUpdatedAt);
}
