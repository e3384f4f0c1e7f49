using System.Net.Http.Headers;
using ServerlessTune.Core.Hosted;
using ServerlessTune.Core.Hosting;
using ServerlessTune.Core.Registry;
using ServerlessTune.Serving.Protocol;

namespace ServerlessTune.Serving.Hosted;

/// <summary>
/// Where the services that serve hosted models answer and the credentials the serving core calls them with, from the
/// environment under the official SDKs' names (<see cref="HostedEnvironment"/>): the workflow trained and deployed with
/// the same settings. A client's own key is never among them: it is checked by us and goes no further.
/// </summary>
/// <param name="Endpoints">The services' addresses and keys; without AZURE_OPENAI_API_KEY, Entra ID through <see cref="AzureToken"/>.</param>
public sealed record HostedUpstreams(HostedEndpoints Endpoints)
{
    public HostedUpstreams() : this(new HostedEndpoints()) { }

    /// <summary>Azure OpenAI's generally available data-plane inference version (deployments/{d}/chat/completions, .../completions).</summary>
    public const string AzureApiVersion = "2024-10-21";
    /// <summary>The scope of an Entra ID token for Azure OpenAI's data plane.</summary>
    public const string AzureScope = "https://cognitiveservices.azure.com/.default";

    public static readonly Uri DefaultOpenAIBaseUrl = new("https://api.openai.com/v1");

    /// <summary>
    /// A bearer token for <see cref="AzureScope"/>, used when no AZURE_OPENAI_API_KEY is set. The host passes it in (from
    /// DefaultAzureCredential, the app's managed identity in Azure): the serving core takes no Azure package.
    /// </summary>
    public Func<CancellationToken, ValueTask<string>>? AzureToken { get; init; }

    public static HostedUpstreams FromEnvironment(Func<string, string?> env) => new(HostedEndpoints.From(env));

    /// <summary>
    /// Where a request for <paramref name="target"/> to <paramref name="endpoint"/> (chat/completions or completions) goes,
    /// the model name the service knows it by, and how it is authenticated. On Azure OpenAI the deployment is in the route,
    /// where the documented <c>model</c> field is optional; it is set to the deployment all the same, so no request carries
    /// our own model name upstream. On OpenAI <c>model</c> is the fine-tuned model's id.
    /// </summary>
    /// <exception cref="ProtocolException">503 naming the setting this server lacks for the model's service.</exception>
    internal async ValueTask<Upstream> ForAsync(HostedVersion target, string endpoint, CancellationToken ct)
    {
        if (target.Provider == HostedBaseModel.OpenAI)
        {
            var key = Endpoints.OpenAIKey ?? throw NotConfigured(target, HostedEnvironment.OpenAIKey);
            var root = (Endpoints.OpenAIBaseUrl ?? DefaultOpenAIBaseUrl).AbsoluteUri.TrimEnd('/');
            return new Upstream(new Uri($"{root}/{endpoint}"), target.Model, request => request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key));
        }
        var azure = Endpoints.AzureEndpoint ?? throw NotConfigured(target, HostedEnvironment.AzureEndpoint);
        var deployment = target.Deployment ?? throw new ProtocolException(503,
            $"the registry records no Azure OpenAI deployment for this model ({target.Model}); deploy it again", "model", "model_not_deployed");
        var url = new Uri($"{azure.AbsoluteUri.TrimEnd('/')}/openai/deployments/{Uri.EscapeDataString(deployment)}/{endpoint}?api-version={AzureApiVersion}");
        if (Endpoints.AzureKey is { } azureKey) return new Upstream(url, deployment, request => request.Headers.Add("api-key", azureKey));
        var tokens = AzureToken ?? throw NotConfigured(target, HostedEnvironment.AzureKey);
        string token;
        try
        {
            token = await tokens(ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new ProtocolException(502, $"no Entra ID token for Azure OpenAI could be had: {ex.Message}", type: "server_error",
                code: "upstream_unavailable");
        }
        return new Upstream(url, deployment, request => request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token));
    }

    static ProtocolException NotConfigured(HostedVersion target, string setting) =>
        new(503, $"the model is served by {target.Provider}, and this server has no {setting} to call it with", "model", "upstream_not_configured");

    /// <summary>One request's destination, its upstream model name, and what puts the service's credential on it.</summary>
    internal sealed record Upstream(Uri Url, string Model, Action<HttpRequestMessage> Authenticate);
}
