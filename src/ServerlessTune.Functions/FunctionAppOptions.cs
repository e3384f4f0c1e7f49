using Azure.Core;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;
using ServerlessTune.Azure.Hosted;
using ServerlessTune.Azure.Jobs;
using ServerlessTune.Core.Hosting;
using ServerlessTune.Functions.FrontDoor;
using ServerlessTune.Serving.Hosted;

namespace ServerlessTune.Functions;

/// <summary>Every app setting the Functions app reads, in one type (see local.settings.sample.json and infra/function-app.bicep).</summary>
/// <param name="FrontDoor">The model backend the public /api/v1 endpoint forwards to, the keys, and the hosted services it forwards hosted projects to.</param>
/// <param name="Hosted">Hosted fine-tuning (Azure OpenAI, OpenAI); every one of its settings is optional (<see cref="HostedSettings.Names"/>).</param>
public sealed record FunctionAppOptions(string? StorageConnection, Uri? StorageAccountUrl, string Container,
    string JobSubscriptionId, string JobResourceGroup, string JobName, FrontDoorOptions FrontDoor, HostedSettings Hosted)
{
    public const string JobSubscriptionIdName = "STUNE_JOB_SUBSCRIPTION_ID";
    public const string JobResourceGroupName = "STUNE_JOB_RESOURCE_GROUP";
    public const string JobNameName = "STUNE_JOB_NAME";
    public const string ServingUrlSetting = "STUNE_SERVING_URL";
    public const string ServingApiKeySetting = "STUNE_SERVING_API_KEY";
    /// <summary>The retrain timer's NCRONTAB schedule, read by the host from the trigger's binding (<see cref="RetrainTimer"/>).</summary>
    public const string RetrainScheduleSetting = "STUNE_RETRAIN_SCHEDULE";
    /// <summary>What infra/ sets it to unless told otherwise: at the top of every hour.</summary>
    public const string DefaultRetrainSchedule = "0 0 * * * *";

    public static readonly EnvironmentNames Names = new(
        Required: [StoreEnvironment.AccountUrl, StoreEnvironment.Container, JobSubscriptionIdName, JobResourceGroupName, JobNameName,
            ServingUrlSetting, ServingEnvironment.ApiKey, ServingApiKeySetting],
        Optional: [StoreEnvironment.Connection, .. HostedSettings.Names]);

    public static FunctionAppOptions From(IConfiguration configuration)
    {
        string? Value(string name) => configuration[EnvironmentNames.ConfigurationKey(name)] is { Length: > 0 } value ? value : null;
        string Required(string name) => Value(name)
            ?? throw new InvalidOperationException($"app setting {name} is missing (see local.settings.sample.json)");

        // The blob trigger's connection "STUNE_STORAGE" is either a connection string or, with identity,
        // STUNE_STORAGE__blobServiceUri; the store uses the same settings so both see the same account.
        string? connection = Value(StoreEnvironment.Connection);
        Uri? accountUrl = Value(StoreEnvironment.AccountUrl) is { } url ? new Uri(url) : null;
        if (connection is null && accountUrl is null)
            throw new InvalidOperationException($"app setting {StoreEnvironment.Connection} (connection string) or {StoreEnvironment.AccountUrl} is missing");
        var hosted = HostedSettings.From(Value);
        return new FunctionAppOptions(connection, accountUrl, Required(StoreEnvironment.Container),
            Required(JobSubscriptionIdName), Required(JobResourceGroupName), Required(JobNameName),
            new FrontDoorOptions(HttpUrl(Required(ServingUrlSetting), ServingUrlSetting),
                ApiKey: Required(ServingEnvironment.ApiKey), BackendApiKey: Required(ServingApiKeySetting)) { Hosted = new HostedUpstreams(hosted.Endpoints) },
            hosted);
    }

    static Uri HttpUrl(string value, string key) =>
        Uri.TryCreate(value, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttps || url.Scheme == Uri.UriSchemeHttp)
            ? url
            : throw new InvalidOperationException($"app setting {key}: '{value}' is not an http or https URL");

    /// <summary>The artifact container: by connection string (Azurite, keys) or by account URL with the app's identity.</summary>
    public BlobContainerClient ArtifactContainer(TokenCredential credential) => StorageConnection is { } connection
        ? new BlobContainerClient(connection, Container)
        : new BlobContainerClient(new Uri(StorageAccountUrl!, Container), credential);

    /// <summary>
    /// The Container Apps job that runs training and model evaluation (one job, one image). It opens the same
    /// container as this app (by its URL, with the job's identity); its image, size and environment are the
    /// job's own (infra/trainer-job.bicep), read when an execution starts.
    /// </summary>
    public ContainerAppsJobOptions Job(BlobContainerClient artifacts) =>
        new(JobSubscriptionId, JobResourceGroup, JobName, StoreLocation: artifacts.Uri.AbsoluteUri);
}
