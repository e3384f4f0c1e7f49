using ServerlessTune.Core;
using ServerlessTune.Core.Hosted;
using ServerlessTune.Core.Hosting;

namespace ServerlessTune.Azure.Hosted;

/// <summary>
/// Where the hosted fine-tuning services are and how to reach them, from the environment under the names the
/// official SDKs read (OPENAI_*, AZURE_OPENAI_*), plus ServerlessTune's own for what the SDKs have no name for: the
/// Azure OpenAI account's ARM id (deployments are made through ARM), the base model's deployment and the deployment
/// sku. Never from pipeline.json: a dataset upload must not be able to point a run at another endpoint or key.
/// </summary>
/// <param name="OpenAIEndpoint">OPENAI_BASE_URL; null = the SDK's default (https://api.openai.com/v1).</param>
/// <param name="AzureKey">AZURE_OPENAI_API_KEY; null = Entra ID (DefaultAzureCredential, the app's managed identity).</param>
/// <param name="AzureAccountId">STUNE_OPENAI_ACCOUNT_ID: /subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.CognitiveServices/accounts/{a}.</param>
/// <param name="BaseDeployment">STUNE_OPENAI_BASE_DEPLOYMENT: the Azure deployment of the base model; null = one named like the model.</param>
/// <param name="DeploymentPoll">How often a deployment's provisioning state is read while it is made.</param>
/// <param name="FilePoll">How often an uploaded file's status is read until the service has processed it.</param>
/// <param name="RetryDelay">The first back-off before a transient failure (408, 429 without retry-after, 5xx) is tried again; it doubles per try.</param>
public sealed record HostedSettings(
    Uri? OpenAIEndpoint = null,
    string? OpenAIKey = null,
    Uri? AzureEndpoint = null,
    string? AzureKey = null,
    string? AzureAccountId = null,
    string? BaseDeployment = null,
    string DeploymentSku = "Standard",
    Uri? ManagementEndpoint = null,
    TimeSpan? DeploymentPoll = null,
    TimeSpan? FilePoll = null,
    TimeSpan? RetryDelay = null)
{
    public const string OpenAIBaseUrlName = HostedEnvironment.OpenAIBaseUrl;
    public const string OpenAIKeyName = HostedEnvironment.OpenAIKey;
    public const string AzureEndpointName = HostedEnvironment.AzureEndpoint;
    public const string AzureKeyName = HostedEnvironment.AzureKey;
    public const string AzureAccountIdName = "STUNE_OPENAI_ACCOUNT_ID";
    public const string BaseDeploymentName = "STUNE_OPENAI_BASE_DEPLOYMENT";
    public const string DeploymentSkuName = "STUNE_OPENAI_DEPLOYMENT_SKU";
    /// <summary>The ARM endpoint (another cloud's, or a test server's); default https://management.azure.com.</summary>
    public const string ManagementEndpointName = "STUNE_MANAGEMENT_ENDPOINT";

    /// <summary>Every name read here. All are optional for a host: hosted fine-tuning is used only by runs that ask for it.</summary>
    public static readonly IReadOnlyList<string> Names =
    [
        OpenAIBaseUrlName, OpenAIKeyName, AzureEndpointName, AzureKeyName, AzureAccountIdName, BaseDeploymentName, DeploymentSkuName,
        ManagementEndpointName,
    ];

    public static readonly Uri DefaultManagementEndpoint = new("https://management.azure.com");

    public Uri Management => ManagementEndpoint ?? DefaultManagementEndpoint;
    public TimeSpan DeploymentInterval => DeploymentPoll ?? TimeSpan.FromSeconds(5);
    public TimeSpan FileInterval => FilePoll ?? TimeSpan.FromSeconds(2);
    /// <summary>The SDKs' own default first back-off.</summary>
    public TimeSpan FirstRetryDelay => RetryDelay ?? TimeSpan.FromSeconds(0.8);

    /// <param name="read">An environment variable or app setting by name (null or empty when unset).</param>
    public static HostedSettings From(Func<string, string?> read)
    {
        string? Value(string name) => read(name) is { Length: > 0 } value ? value : null;
        var endpoints = HostedEndpoints.From(read);
        return new HostedSettings(
            endpoints.OpenAIBaseUrl,
            endpoints.OpenAIKey,
            endpoints.AzureEndpoint,
            endpoints.AzureKey,
            Value(AzureAccountIdName),
            Value(BaseDeploymentName),
            Value(DeploymentSkuName) ?? "Standard",
            HostedEndpoints.Url(Value(ManagementEndpointName), ManagementEndpointName));
    }

    /// <summary>The services' addresses and keys alone, as the serving front door forwards with them.</summary>
    public HostedEndpoints Endpoints => new(OpenAIEndpoint, OpenAIKey, AzureEndpoint, AzureKey);

    public static HostedSettings FromEnvironment() => From(Environment.GetEnvironmentVariable);

    /// <summary>Throws UserInputException naming the setting a provider lacks.</summary>
    public void EnsureConfigured(string provider)
    {
        if (provider == HostedBaseModel.OpenAI && OpenAIKey is null)
            throw new UserInputException($"base_model openai:...: set {OpenAIKeyName} (and {OpenAIBaseUrlName} for an endpoint other than api.openai.com)");
        if (provider == HostedBaseModel.AzureOpenAI && AzureEndpoint is null)
            throw new UserInputException($"base_model azure-openai:...: set {AzureEndpointName} (and {AzureKeyName}, or sign in for Entra ID)");
    }
}
