namespace ServerlessTune.Infra.Tests;

/// <summary>The deployments the checks read, evaluated once per test run (each snapshot takes a few seconds).</summary>
public static class Snapshots
{
    // A value for the parameters without a default (the keys azd asks the user for); 32 characters, as required.
    const string ApiKey = "'ci-0123456789abcdef0123456789abcd'";
    // What environment().suffixes.storage is in public Azure; a snapshot has no cloud to ask.
    const string PublicCloudStorage = "'core.windows.net'";

    static readonly Lazy<Snapshot> DefaultSnapshot = new(() => Bicep.Evaluate(MainTemplate, new Dictionary<string, string>
    {
        ["environmentName"] = "'ci'",
        ["servingApiKey"] = ApiKey,
        ["frontDoorApiKey"] = ApiKey,
        ["storageEndpointSuffix"] = PublicCloudStorage,
    }));

    static readonly Lazy<Snapshot> HostedSnapshot = new(() => Bicep.Evaluate(MainTemplate, new Dictionary<string, string>
    {
        ["environmentName"] = "'ci'",
        ["servingApiKey"] = ApiKey,
        ["frontDoorApiKey"] = ApiKey,
        ["hostedFineTuning"] = "true",
        ["servingProfile"] = "'Consumption-GPU-NC24-A100'",
        ["storageEndpointSuffix"] = PublicCloudStorage,
    }));

    // azd hands main.bicep's outputs to the postdeploy hook as environment variables; so does this.
    static readonly Lazy<Snapshot> EventsSnapshot = new(() =>
        Bicep.EvaluateParameters(Path.Combine(Repository.Infra, "dataset-events.bicepparam"), Default.Outputs));

    public static string MainTemplate => Path.Combine(Repository.Infra, "main.bicep");

    /// <summary>`azd up` with the defaults: CPU serving, no Azure OpenAI.</summary>
    public static Snapshot Default => DefaultSnapshot.Value;

    /// <summary>Hosted fine-tuning on, serving on a GPU profile other than the job's.</summary>
    public static Snapshot Hosted => HostedSnapshot.Value;

    /// <summary>The dataset subscription the postdeploy hook deploys, fed the outputs of <see cref="Default"/>.</summary>
    public static Snapshot Events => EventsSnapshot.Value;

    public static IEnumerable<object[]> Both() => [[nameof(Default)], [nameof(Hosted)]];

    public static Snapshot Named(string name) => name == nameof(Hosted) ? Hosted : Default;
}
