using ServerlessTune.Core.Hosted;
using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Workflow.Steps;

/// <summary>
/// The Deploy step: registers the run's model and moves the alias. Both are idempotent (the version name
/// comes from the run), so a retry after a crash between the two finishes the job without a second version.
/// A hosted model is made callable first: on Azure OpenAI the project's deployment for the alias is created or updated
/// to it through ARM (waiting until it succeeded), and the version records the model id and that deployment.
/// What it registers must load: a job that exited 0 without writing its model fails here, not in serving.
/// The alias moves by compare-and-swap and only forward (<see cref="ModelRegistry.PromoteAsync"/>), so concurrent
/// deploys of one project lose no move and the newest run's version ends up behind it.
/// </summary>
public sealed class DeployStep(IArtifactStore store, ModelRegistry registry, IHostedModels? hosted = null)
{
    public async Task<Deployment> RunAsync(DeployInput input, CancellationToken ct = default)
    {
        var (adapter, hostedVersion) = await FineTunedAsync(input, ct);
        var version = await registry.RegisterAsync(new ModelVersion
        {
            Project = input.Project,
            Version = ModelRegistry.VersionFor(input.RunStartedUtc, input.RunId),
            RunId = input.RunId,
            BaseModel = input.BaseModel,
            Adapter = adapter,
            ChatTemplate = input.ChatTemplate,
            Hosted = hostedVersion,
            Format = hostedVersion is null ? input.Format : null,
            DatasetVersion = input.DatasetVersion,
            Metrics = input.Metrics,
            Gate = input.Gate,
            CreatedUtc = input.RunStartedUtc,
        }, ct);
        string current = await registry.PromoteAsync(input.Project, input.Alias, version.Version, ct);
        return new Deployment(version.Version, current == version.Version ? input.Alias : null);
    }

    async Task<(string Adapter, HostedVersion? Hosted)> FineTunedAsync(DeployInput input, CancellationToken ct)
    {
        if (!HostedBaseModel.TryParse(input.BaseModel, out var model))
        {
            var weights = await FineTunedModel.OfRunAsync(store, input.RunId, ct);
            await weights.VerifyAsync(store, ct);
            return (weights.Prefix, null);
        }
        var service = hosted ?? throw new InvalidOperationException($"base_model '{input.BaseModel}': this host has no hosted fine-tuning wired");
        string fineTuned = await HostedJobRecord.FineTunedModelAsync(store, input.RunId, ct);
        var target = await service.DeployAsync(model.Provider, fineTuned, HostedTarget.DeploymentName(input.Project, input.Alias), ct);
        return (HostedJobRecord.PathOf(input.RunId),
            new HostedVersion(model.Provider, fineTuned, model.Provider == HostedBaseModel.AzureOpenAI ? target.Name : null));
    }
}
