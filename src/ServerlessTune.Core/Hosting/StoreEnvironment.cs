namespace ServerlessTune.Core.Hosting;

/// <summary>
/// How a host in Azure finds the artifact store: a blob connection string (Azurite, keys), or the account's
/// blob endpoint opened with the host's managed identity (the Azure Functions identity-connection form of
/// the same setting), and the container. The Functions app and the serving app read the same names.
/// </summary>
public static class StoreEnvironment
{
    public const string Connection = "STUNE_STORAGE";
    public const string AccountUrl = Connection + "__blobServiceUri";
    public const string Container = "STUNE_CONTAINER";
}
