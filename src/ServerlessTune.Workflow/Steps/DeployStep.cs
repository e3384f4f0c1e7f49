using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Workflow.Steps;

/// <summary>
/// The Deploy step: registers the run's model and moves the alias. Both are idempotent (the version name
/// comes from the run), so a retry after a crash between the two finishes the job without a second version.
/// </summary>
public sealed class DeployStep(IArtifactStore store, ModelRegistry registry)
{
    public async Task<Deployment> RunAsync(DeployInput input, CancellationToken ct = default)
    {
        var fineTuned = await FineTunedModel.OfRunAsync(store, input.RunId, ct);
        var version = await registry.RegisterAsync(new ModelVersion
        {
            Project = input.Project,
            Version = ModelRegistry.VersionFor(input.RunStartedUtc, input.RunId),
            RunId = input.RunId,
            BaseModel = input.BaseModel,
            Adapter = fineTuned.Prefix,
            DatasetVersion = input.DatasetVersion,
            Metrics = input.Metrics,
            Gate = input.Gate,
            CreatedUtc = input.RunStartedUtc,
        }, ct);
        await registry.SetAliasAsync(input.Project, input.Alias, version.Version, ct);
        return new Deployment(version.Version, input.Alias);
    }
}
