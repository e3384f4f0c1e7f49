namespace ServerlessTune.Core.Hosting;

/// <summary>
/// Where the hosted fine-tuning services are, under the names the official SDKs read. The workflow's hosted steps
/// (ServerlessTune.Azure's HostedSettings) and the serving core, which forwards a hosted project's requests, read them
/// through <see cref="HostedEndpoints.From"/>, so one set of settings reaches both.
/// </summary>
public static class HostedEnvironment
{
    public const string OpenAIBaseUrl = "OPENAI_BASE_URL";
    public const string OpenAIKey = "OPENAI_API_KEY";
    public const string AzureEndpoint = "AZURE_OPENAI_ENDPOINT";
    public const string AzureKey = "AZURE_OPENAI_API_KEY";

    public static readonly IReadOnlyList<string> Names = [OpenAIBaseUrl, OpenAIKey, AzureEndpoint, AzureKey];
}

/// <param name="OpenAIBaseUrl">OPENAI_BASE_URL; null = the SDK's default (https://api.openai.com/v1).</param>
/// <param name="AzureKey">AZURE_OPENAI_API_KEY; null = Entra ID (the host's identity).</param>
public sealed record HostedEndpoints(Uri? OpenAIBaseUrl = null, string? OpenAIKey = null, Uri? AzureEndpoint = null, string? AzureKey = null)
{
    /// <param name="read">An environment variable or app setting by name (null or empty when unset).</param>
    /// <exception cref="UserInputException">A URL setting that is not an http(s) URL, named.</exception>
    public static HostedEndpoints From(Func<string, string?> read)
    {
        string? Value(string name) => read(name) is { Length: > 0 } value ? value : null;
        return new HostedEndpoints(Url(Value(HostedEnvironment.OpenAIBaseUrl), HostedEnvironment.OpenAIBaseUrl), Value(HostedEnvironment.OpenAIKey),
            Url(Value(HostedEnvironment.AzureEndpoint), HostedEnvironment.AzureEndpoint), Value(HostedEnvironment.AzureKey));
    }

    /// <summary>An http(s) URL setting, or null when unset.</summary>
    public static Uri? Url(string? value, string name) => value is null ? null
        : Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http" ? uri
        : throw new UserInputException($"{name}: '{value}' is not an http(s) URL");
}
