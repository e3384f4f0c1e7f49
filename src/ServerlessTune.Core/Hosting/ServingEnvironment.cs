namespace ServerlessTune.Core.Hosting;

/// <summary>
/// What the serving container (`stune serve` in the Azure serving app) reads from its environment. The serving
/// host's settings type reads these names; infra/serving-app.bicep sets them.
/// </summary>
public static class ServingEnvironment
{
    public const string ApiKey = "STUNE_API_KEY";
    public const string Project = "STUNE_PROJECT";
    public const string Port = "PORT";

    public static readonly EnvironmentNames Names = new(
        Required: [StoreEnvironment.AccountUrl, StoreEnvironment.Container, ApiKey, Port],
        Optional: [StoreEnvironment.Connection, Project, .. HostedEnvironment.Names]);
}
