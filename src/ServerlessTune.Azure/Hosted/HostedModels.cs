using Azure.Core;
using Azure.Identity;
using OpenAI.Chat;
using ServerlessTune.Core.Hosted;
using ServerlessTune.Core.Jobs;
using ServerlessTune.Core.Storage;
using CoreChatMessage = ServerlessTune.Core.Chat.ChatMessage;

namespace ServerlessTune.Azure.Hosted;

/// <summary>
/// Azure OpenAI and OpenAI behind <see cref="IHostedModels"/>: fine-tuning jobs, chat completions and (Azure)
/// deployments, all through the official clients from one set of settings. The Functions app and the CLI build it
/// with <see cref="FromEnvironment"/>; tests give it settings and an HTTP client of their own.
/// </summary>
public sealed class HostedModels(IArtifactStore store, HostedSettings settings, TokenCredential credential, HttpClient? transport = null) : IHostedModels
{
    readonly HostedClients _clients = new(settings, credential, transport);
    readonly ArmDeployments _deployments = new(settings, credential, transport);

    /// <summary>Settings from the environment; Entra ID through DefaultAzureCredential (the app's managed identity in Azure).</summary>
    public static HostedModels FromEnvironment(IArtifactStore store) =>
        new(store, HostedSettings.FromEnvironment(), new DefaultAzureCredential());

    public IJobLauncher Training => field ??= new HostedFineTuningLauncher(store, _clients);

    public void EnsureConfigured(string provider) => settings.EnsureConfigured(provider);

    public HostedTarget Base(HostedBaseModel model) =>
        new(model.Provider, model.Provider == HostedBaseModel.AzureOpenAI ? settings.BaseDeployment ?? model.Model : model.Model);

    public async Task<string> ChatAsync(HostedTarget target, IReadOnlyList<CoreChatMessage> messages, int maxTokens, CancellationToken ct = default)
    {
        var chat = _clients.For(target.Provider).GetChatClient(target.Name);
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = maxTokens };
        var completion = await HostedClients.CallAsync($"chat completion from {target.Name}", () =>
            chat.CompleteChatAsync(messages.Select(Message), options, ct));
        return string.Concat(completion.Value.Content.Select(part => part.Text));
    }

    public async Task<HostedTarget> DeployAsync(string provider, string fineTunedModel, string deployment, CancellationToken ct = default)
    {
        if (provider != HostedBaseModel.AzureOpenAI) return new HostedTarget(provider, fineTunedModel);
        await _deployments.DeployAsync(deployment, fineTunedModel, ct);
        return new HostedTarget(provider, deployment);
    }

    static ChatMessage Message(CoreChatMessage message) => message.Role switch
    {
        CoreChatMessage.System => new SystemChatMessage(message.Content),
        CoreChatMessage.Assistant => new AssistantChatMessage(message.Content),
        _ => new UserChatMessage(message.Content),
    };
}
