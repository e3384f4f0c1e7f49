namespace ServerlessTune.Core.Hosting;

/// <summary>
/// The environment variables (app settings) a host program reads, as data beside the code that reads them:
/// <paramref name="Required"/> must be set where the host runs in Azure (with its managed identity),
/// <paramref name="Optional"/> may be. infra/ must set every required name for that host and may set only
/// names the host reads; tests/ServerlessTune.Infra.Tests checks the compiled Bicep against these lists.
/// </summary>
public sealed record EnvironmentNames(IReadOnlyList<string> Required, IReadOnlyList<string> Optional)
{
    public bool Reads(string name) => Required.Contains(name) || Optional.Contains(name);

    /// <summary>The IConfiguration key of an environment name (`__` separates sections there, `:` here).</summary>
    public static string ConfigurationKey(string name) => name.Replace("__", ":");
}
