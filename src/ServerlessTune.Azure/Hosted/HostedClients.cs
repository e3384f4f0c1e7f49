using System.ClientModel;
using System.ClientModel.Primitives;
using Azure.AI.OpenAI;
using Azure.Core;
using OpenAI;
using ServerlessTune.Core;
using ServerlessTune.Core.Hosted;

namespace ServerlessTune.Azure.Hosted;

/// <summary>
/// The official clients, one per provider: OpenAIClient for OpenAI, AzureOpenAIClient (Azure.AI.OpenAI over the same
/// library) for Azure OpenAI. Their pipelines retry 408, 429 (after the service's retry-after) and 5xx; a client
/// error (400, 401, 404...) is the user's to fix and reaches the step as a UserInputException with the service's text.
/// </summary>
/// <param name="transport">The HTTP client under every request; null = the SDKs' own.</param>
public sealed class HostedClients(HostedSettings settings, TokenCredential credential, HttpClient? transport = null)
{
    /// <summary>Tries per request before a transient failure reaches the workflow (which retries the activity again).</summary>
    public const int MaxRetries = 6;

    readonly Lazy<OpenAIClient> _openAI = new(() => CreateOpenAI(settings, transport));
    readonly Lazy<OpenAIClient> _azure = new(() => CreateAzure(settings, credential, transport));

    public HostedSettings Settings => settings;

    public OpenAIClient For(string provider)
    {
        settings.EnsureConfigured(provider);
        return provider == HostedBaseModel.AzureOpenAI ? _azure.Value : _openAI.Value;
    }

    static OpenAIClient CreateOpenAI(HostedSettings settings, HttpClient? transport)
    {
        var options = Configure(new OpenAIClientOptions(), settings, transport);
        if (settings.OpenAIEndpoint is { } endpoint) options.Endpoint = endpoint;
        return new OpenAIClient(new ApiKeyCredential(settings.OpenAIKey!), options);
    }

    static OpenAIClient CreateAzure(HostedSettings settings, TokenCredential credential, HttpClient? transport)
    {
        var options = Configure(new AzureOpenAIClientOptions(), settings, transport);
        options.AddPolicy(new AzureFineTuningRoutes(settings.AzureEndpoint!), PipelinePosition.PerCall);
        return settings.AzureKey is { } key
            ? new AzureOpenAIClient(settings.AzureEndpoint!, new ApiKeyCredential(key), options)
            : new AzureOpenAIClient(settings.AzureEndpoint!, credential, options);
    }

    static T Configure<T>(T options, HostedSettings settings, HttpClient? transport) where T : ClientPipelineOptions
    {
        options.RetryPolicy = new HostedRetryPolicy(MaxRetries, settings.FirstRetryDelay);
        if (transport is not null) options.Transport = new HttpClientPipelineTransport(transport);
        return options;
    }

    /// <summary>
    /// Runs one service call; a 4xx other than 408/429 becomes a UserInputException carrying the service's message
    /// (never retried), anything else propagates as the transient failure it is.
    /// </summary>
    public static async Task<T> CallAsync<T>(string what, Func<Task<T>> call)
    {
        try { return await call(); }
        catch (ClientResultException e) when (e.Status is >= 400 and < 500 and not 408 and not 429)
        {
            throw new UserInputException($"{what}: the service answered {e.Status}: {ServiceMessage(e)}", e);
        }
    }

    /// <summary>The error object's message of an OpenAI-protocol error body ({"error": {"message": ...}}), else the body.</summary>
    static string ServiceMessage(ClientResultException e)
    {
        string? body = e.GetRawResponse()?.Content?.ToString();
        if (string.IsNullOrEmpty(body)) return e.Message;
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(body);
            if (document.RootElement.TryGetProperty("error", out var error) && error.TryGetProperty("message", out var message))
                return message.GetString() ?? body;
        }
        catch (System.Text.Json.JsonException) { }
        return body;
    }
}
