using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using ServerlessTune.Core.Hosting;

namespace ServerlessTune.Azure.Monitoring;

/// <summary>
/// Sends a host's meters to Application Insights through OpenTelemetry when the environment names a resource
/// (the variables Application Insights' own SDKs read). infra/ turns the resource's local authentication off, so
/// the serving app says `Authorization=AAD` and signs in with its managed identity.
/// </summary>
public static class AzureMonitorMetrics
{
    public const string ConnectionVariable = "APPLICATIONINSIGHTS_CONNECTION_STRING";
    public const string AuthenticationVariable = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    /// <summary>What a host that exports this way reads; infra/ sets both on the serving app.</summary>
    public static readonly EnvironmentNames Names = new(Required: [ConnectionVariable, AuthenticationVariable], Optional: []);

    /// <summary>The registration for <paramref name="meters"/>, or null when no connection string is set.</summary>
    public static Action<IServiceCollection>? FromEnvironment(Func<string, string?> environment, params string[] meters)
    {
        if (environment(ConnectionVariable) is not { Length: > 0 } connection) return null;
        var credential = environment(AuthenticationVariable) is { } auth && auth.Contains("Authorization=AAD", StringComparison.OrdinalIgnoreCase)
            ? new DefaultAzureCredential()
            : null;
        return services => Add(services, connection, credential, meters);
    }

    public static void Add(IServiceCollection services, string connectionString, TokenCredential? credential, params string[] meters) =>
        services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(meters)
            .AddAzureMonitorMetricExporter(o => o.ConnectionString = connectionString, credential));
}
