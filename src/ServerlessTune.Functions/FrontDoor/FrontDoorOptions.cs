using ServerlessTune.Serving.Hosted;

namespace ServerlessTune.Functions.FrontDoor;

/// <summary>Where the serving front door forwards, and the two keys it deals in (app settings in <see cref="FunctionAppOptions"/>).</summary>
/// <param name="BackendUrl">The serving Container App's base URL (STUNE_SERVING_URL); requests go to its /v1/... paths.</param>
/// <param name="ApiKey">The key clients send (STUNE_API_KEY), checked as the serving core checks it.</param>
/// <param name="BackendApiKey">The key the backend checks (STUNE_SERVING_API_KEY). The client's key is never passed on,
/// so the public key can be rotated without touching the backend.</param>
public sealed record FrontDoorOptions(Uri BackendUrl, string ApiKey, string BackendApiKey)
{
    /// <summary>The services a hosted project's requests go to directly, not through the backend (the hosted fine-tuning settings).</summary>
    public HostedUpstreams Hosted { get; init; } = new();
    /// <summary>How often the registry's aliases are read for names a hosted service serves.</summary>
    public TimeSpan RegistryPoll { get; init; } = TimeSpan.FromSeconds(2);
}
