using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Jobs;

namespace ServerlessTune.Core.Hosted;

/// <summary>
/// A model to call through chat completions: on Azure OpenAI a deployment name, on OpenAI a model id (base or
/// fine-tuned).
/// </summary>
public sealed record HostedTarget(string Provider, string Name)
{
    /// <summary>
    /// The Azure OpenAI deployment a project's model of one role is served from: {project}-candidate while a run
    /// evaluates it, {project}-production (or -staging) once deployed. One per role, updated in place to each new model.
    /// </summary>
    public static string DeploymentName(string project, string role) =>
        $"{project[..Math.Min(project.Length, 63 - role.Length - 1)]}-{role}";
}

/// <summary>
/// What the workflow needs from a hosted fine-tuning service (Azure OpenAI or OpenAI): training jobs, chat answers for
/// evaluation, and deployments. The contract sits in Core beside <see cref="IJobLauncher"/> for the same reason: the
/// Azure project implements it and must not depend on the workflow. Endpoints and credentials come from the
/// environment under the official SDKs' names, never from pipeline.json.
/// </summary>
public interface IHostedModels
{
    /// <summary>Fine-tuning jobs (<see cref="JobKinds.Train"/> specs whose base model is hosted), polled like the trainer's.</summary>
    IJobLauncher Training { get; }

    /// <summary>Throws UserInputException naming the missing setting when <paramref name="provider"/> cannot be reached.</summary>
    void EnsureConfigured(string provider);

    /// <summary>How the base model is called: its deployment on Azure OpenAI (from the settings), its id on OpenAI.</summary>
    HostedTarget Base(HostedBaseModel model);

    /// <summary>The assistant's answer to a conversation, decoded greedily (temperature 0) up to <paramref name="maxTokens"/>.</summary>
    Task<string> ChatAsync(HostedTarget target, IReadOnlyList<ChatMessage> messages, int maxTokens, CancellationToken ct = default);

    /// <summary>
    /// Makes a fine-tuned model callable and returns how: on Azure OpenAI it creates or updates the deployment
    /// <paramref name="deployment"/> through ARM and waits until it succeeded; on OpenAI the model id is callable as it is.
    /// </summary>
    Task<HostedTarget> DeployAsync(string provider, string fineTunedModel, string deployment, CancellationToken ct = default);
}
