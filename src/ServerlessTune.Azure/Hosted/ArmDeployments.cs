using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Azure.Core;
using Azure.Core.Pipeline;
using ServerlessTune.Core;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Azure.Hosted;

/// <summary>
/// Azure OpenAI deployments through the ARM REST API (Microsoft.CognitiveServices/accounts/deployments, api-version
/// 2024-10-01): PUT creates the deployment or updates it to another model, then its provisioningState is read until
/// it is Succeeded. Azure.Core's pipeline carries the token (the app's managed identity) and retries 429 after
/// Retry-After and 5xx. (No ARM SDK for Cognitive Services is in this machine's NuGet copy; the REST surface is two calls.)
/// </summary>
public sealed partial class ArmDeployments(HostedSettings settings, TokenCredential credential, HttpClient? transport = null)
{
    public const string ApiVersion = "2024-10-01";
    static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(30);

    readonly HttpPipeline _pipeline = HttpPipelineBuilder.Build(new ArmOptions(settings, transport),
        new BearerTokenAuthenticationPolicy(credential, $"{settings.Management.GetLeftPart(UriPartial.Authority)}/.default"));

    /// <summary>Creates or updates <paramref name="deployment"/> to serve <paramref name="model"/> and waits until it succeeded.</summary>
    public async Task DeployAsync(string deployment, string model, CancellationToken ct = default)
    {
        string url = Url(deployment);
        var body = new JsonObject
        {
            ["sku"] = new JsonObject { ["name"] = settings.DeploymentSku, ["capacity"] = 1 },
            ["properties"] = new JsonObject
            {
                ["model"] = new JsonObject { ["format"] = "OpenAI", ["name"] = model, ["version"] = "1" },
            },
        };
        var state = await SendAsync(RequestMethod.Put, url, body, ct);
        var deadline = DateTimeOffset.UtcNow + MaxWait;
        while (state is not "Succeeded")
        {
            if (state is "Failed" or "Canceled")
                throw new InvalidOperationException($"deployment {deployment} of {model}: provisioning {state}");
            if (DateTimeOffset.UtcNow > deadline)
                throw new TimeoutException($"deployment {deployment} of {model}: still {state} after {MaxWait.TotalMinutes} minutes");
            await Task.Delay(settings.DeploymentInterval, ct);
            state = await SendAsync(RequestMethod.Get, url, null, ct);
        }
    }

    string Url(string deployment)
    {
        string account = settings.AzureAccountId is { } id && AccountIdPattern().IsMatch(id)
            ? id.TrimEnd('/')
            : throw new UserInputException(
                $"{HostedSettings.AzureAccountIdName}: '{settings.AzureAccountId}' is not the ARM id of an Azure OpenAI account " +
                "(/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.CognitiveServices/accounts/{a})");
        return $"{settings.Management.ToString().TrimEnd('/')}{account}/deployments/{Uri.EscapeDataString(ArtifactPath.ValidateName(deployment, "deployment name"))}?api-version={ApiVersion}";
    }

    /// <returns>The deployment's properties.provisioningState.</returns>
    async Task<string> SendAsync(RequestMethod method, string url, JsonNode? body, CancellationToken ct)
    {
        using var message = _pipeline.CreateMessage();
        message.Request.Method = method;
        message.Request.Uri.Reset(new Uri(url));
        if (body is not null)
        {
            message.Request.Headers.Add("Content-Type", "application/json");
            message.Request.Content = RequestContent.Create(BinaryData.FromString(body.ToJsonString()));
        }
        await _pipeline.SendAsync(message, ct);
        var response = message.Response;
        string text = response.Content.ToString();
        if (response.IsError)
        {
            string what = $"{method} deployment {url[(url.LastIndexOf('/') + 1)..url.IndexOf('?')]}: {response.Status}: {text}";
            // A bad request, missing role or unknown account fails the same way every time; throttling and 5xx were retried already.
            if (response.Status is >= 400 and < 500 and not 408 and not 429) throw new UserInputException(what);
            throw new HttpRequestException(what);
        }
        using var document = JsonDocument.Parse(text);
        return document.RootElement.TryGetProperty("properties", out var properties) && properties.TryGetProperty("provisioningState", out var state)
            ? state.GetString() ?? "Unknown"
            : "Unknown";
    }

    sealed class ArmOptions : ClientOptions
    {
        public ArmOptions(HostedSettings settings, HttpClient? transport)
        {
            Retry.MaxRetries = HostedClients.MaxRetries;
            Retry.Delay = settings.FirstRetryDelay;
            if (transport is not null) Transport = new HttpClientTransport(transport);
        }
    }

    [GeneratedRegex(@"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.CognitiveServices/accounts/[A-Za-z0-9][A-Za-z0-9_.-]{0,63}/?$",
        RegexOptions.IgnoreCase)]
    private static partial Regex AccountIdPattern();
}
