using Microsoft.Extensions.Configuration;
using ServerlessTune.Azure.Jobs;
using ServerlessTune.Functions.FrontDoor;
using ServerlessTune.Serving;

namespace ServerlessTune.Functions;

/// <summary>Every app setting the Functions app reads, in one type (see local.settings.sample.json and infra/).</summary>
/// <param name="Job">The Container Apps job that runs training and model evaluation.</param>
/// <param name="FrontDoor">The model backend the public /api/v1 endpoint forwards to, and the keys.</param>
public sealed record FunctionAppOptions(string? StorageConnection, Uri? StorageAccountUrl, string Container, ContainerAppsJobOptions Job,
    FrontDoorOptions FrontDoor)
{
    public const string ServingUrlSetting = "STUNE_SERVING_URL";
    public const string ServingApiKeySetting = "STUNE_SERVING_API_KEY";

    public static FunctionAppOptions From(IConfiguration configuration)
    {
        string Required(string key) => configuration[key] is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"app setting {key} is missing (see local.settings.sample.json)");

        // The blob trigger's connection "STUNE_STORAGE" is either a connection string or, with identity,
        // STUNE_STORAGE__blobServiceUri; the store uses the same settings so both see the same account.
        string? connection = configuration["STUNE_STORAGE"];
        Uri? accountUrl = configuration["STUNE_STORAGE:blobServiceUri"] is { Length: > 0 } url ? new Uri(url) : null;
        if (connection is null && accountUrl is null)
            throw new InvalidOperationException("app setting STUNE_STORAGE (connection string) or STUNE_STORAGE__blobServiceUri is missing");
        return new FunctionAppOptions(connection, accountUrl, Required("STUNE_CONTAINER"), new ContainerAppsJobOptions(
            SubscriptionId: Required("STUNE_JOB_SUBSCRIPTION_ID"),
            ResourceGroup: Required("STUNE_JOB_RESOURCE_GROUP"),
            JobName: Required("STUNE_JOB_NAME"),
            ContainerName: Required("STUNE_JOB_CONTAINER"),
            Image: Required("STUNE_JOB_IMAGE"),
            StoreLocation: Required("STUNE_JOB_STORE")),
            new FrontDoorOptions(HttpUrl(Required(ServingUrlSetting), ServingUrlSetting),
                ApiKey: Required(ServingOptions.ApiKeyVariable), BackendApiKey: Required(ServingApiKeySetting)));
    }

    static Uri HttpUrl(string value, string key) =>
        Uri.TryCreate(value, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttps || url.Scheme == Uri.UriSchemeHttp)
            ? url
            : throw new InvalidOperationException($"app setting {key}: '{value}' is not an http or https URL");
}
