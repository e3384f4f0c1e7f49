using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Core;
using ServerlessTune.Core.Jobs;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Azure.Jobs;

/// <param name="StoreLocation">The trainer's STUNE_STORE: the artifact container's URL (read with the job's managed identity) or a mounted folder.</param>
public sealed record ContainerAppsJobOptions(
    string SubscriptionId,
    string ResourceGroup,
    string JobName,
    string ContainerName,
    string Image,
    /// <summary>URL of the artifacts container; the job opens it with its managed identity.</summary>
    string StoreLocation,
    double Cpu = 4,
    string Memory = "16Gi",
    string ApiVersion = "2024-03-01",
    string ManagementEndpoint = "https://management.azure.com");

/// <summary>
/// Starts one execution of an Azure Container Apps job per run and job kind through the ARM REST API, overriding the
/// container's arguments and environment with this run's job spec, and reads the execution's status.
/// (Azure.ResourceManager.AppContainers is not available here; the REST surface it wraps is small.)
/// </summary>
public sealed class ContainerAppsJobLauncher(HttpClient http, TokenCredential credential, ContainerAppsJobOptions options) : IJobLauncher
{
    public string Name => "containerapps";

    public async Task<JobHandle> StartAsync(JobSpec spec, string specPath, CancellationToken ct = default)
    {
        var template = new JsonObject
        {
            ["containers"] = new JsonArray(new JsonObject
            {
                ["name"] = options.ContainerName,
                ["image"] = options.Image,
                // The job reaches the run's container with its managed identity; no key travels with it.
                ["args"] = new JsonArray(specPath, "--container-url", options.StoreLocation),
                ["env"] = new JsonArray(Env("STUNE_JOB_SPEC", spec.ToJson())),
                ["resources"] = new JsonObject { ["cpu"] = options.Cpu, ["memory"] = options.Memory },
            }),
        };
        using var response = await SendAsync(HttpMethod.Post, $"{JobUrl()}/start", template, ct);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>(ct);
        string execution = body?["name"]?.GetValue<string>()
                           ?? throw new InvalidDataException($"start of job {options.JobName} returned no execution name");
        return new JobHandle(spec.RunId, spec.Kind, Name, execution);
    }

    public async Task<JobProgress> GetStatusAsync(JobHandle job, CancellationToken ct = default)
    {
        using var response = await SendAsync(HttpMethod.Get, ExecutionUrl(job), null, ct);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>(ct);
        string status = body?["properties"]?["status"]?.GetValue<string>() ?? "Unknown";
        return status switch
        {
            "Succeeded" => new JobProgress(JobState.Succeeded),
            "Failed" or "Stopped" or "Degraded" => new JobProgress(JobState.Failed, Error:
                $"Container Apps job execution {job.ExecutionId} ended {status}; the job's message is in {ArtifactLayout.Run(job.RunId).Job(job.Kind).Status} and the execution's logs"),
            _ => new JobProgress(JobState.Running),
        };
    }

    public async Task StopAsync(JobHandle job, CancellationToken ct = default)
    {
        using var _ = await SendAsync(HttpMethod.Post, $"{ExecutionUrl(job)}/stop", null, ct);
    }

    async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken ct)
    {
        var token = await credential.GetTokenAsync(new TokenRequestContext([$"{options.ManagementEndpoint}/.default"]), ct);
        using var request = new HttpRequestMessage(method, $"{options.ManagementEndpoint}{path}?api-version={options.ApiVersion}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Token);
        if (body is not null) request.Content = JsonContent.Create(body, options: new JsonSerializerOptions());
        var response = await http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            string detail = await response.Content.ReadAsStringAsync(ct);
            response.Dispose();
            // ARM errors name the problem (missing role, unknown job); the request path carries no secret.
            throw new HttpRequestException($"{method} {path}: {(int)response.StatusCode} {response.ReasonPhrase}: {detail}", null, response.StatusCode);
        }
        return response;
    }

    string JobUrl() =>
        $"/subscriptions/{Segment(options.SubscriptionId)}/resourceGroups/{Segment(options.ResourceGroup)}/providers/Microsoft.App/jobs/{Segment(options.JobName)}";

    string ExecutionUrl(JobHandle job) => $"{JobUrl()}/executions/{Segment(job.ExecutionId)}";

    static string Segment(string value) => Uri.EscapeDataString(ArtifactPath.ValidateName(value, "Azure resource name"));

    static JsonObject Env(string name, string value) => new() { ["name"] = name, ["value"] = value };
}
