using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Core;
using ServerlessTune.Azure.Storage;
using ServerlessTune.Core.Jobs;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Azure.Jobs;

/// <param name="StoreLocation">The artifact container's URL; the job opens it with its managed identity.</param>
public sealed record ContainerAppsJobOptions(
    string SubscriptionId,
    string ResourceGroup,
    string JobName,
    string StoreLocation,
    string ApiVersion = "2024-03-01",
    string ManagementEndpoint = "https://management.azure.com");

/// <summary>
/// Starts one execution of an Azure Container Apps job per run and job kind (training and evaluation run in the
/// same job and image) through the ARM REST API, with this job's arguments, and reads the execution's status.
/// A start's template replaces the job's container, so it is the job's own container (image, resources,
/// environment: infra/trainer-job.bicep decides them) plus the arguments; the spec the arguments name says which
/// kind of job to run; nothing about the job's size or image is configured twice.
/// (Azure.ResourceManager.AppContainers is not available here; the REST surface it wraps is small.)
/// </summary>
public sealed class ContainerAppsJobLauncher(HttpClient http, TokenCredential credential, ContainerAppsJobOptions options) : IJobLauncher
{
    public string Name => "containerapps";

    public async Task<JobHandle> StartAsync(JobSpec spec, string specPath, CancellationToken ct = default)
    {
        var container = await JobContainerAsync(ct);
        // The job reaches the run's container with its managed identity; no key travels with it.
        container["args"] = new JsonArray(specPath, TrainerStore.ContainerUrlOption, options.StoreLocation);
        var template = new JsonObject { ["containers"] = new JsonArray(container) };
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
        string status = body?["properties"]?["status"]?.GetValue<string>() ?? "(none)";
        string where = $"the job's message is in {ArtifactLayout.Run(job.RunId).Job(job.Kind).Status} and the execution's logs";
        // The REST reference's JobExecutionRunningState values. Anything else (its "Unknown" included) ends the job
        // rather than being polled as Running until the job timeout.
        return status switch
        {
            "Running" or "Processing" => new JobProgress(JobState.Running),
            "Succeeded" => new JobProgress(JobState.Succeeded),
            "Failed" or "Stopped" or "Degraded" => new JobProgress(JobState.Failed, Error: $"Container Apps job execution {job.ExecutionId} ended {status}; {where}"),
            _ => new JobProgress(JobState.Failed, Error: $"Container Apps job execution {job.ExecutionId} has status {status}, which is not one it can go on from; {where}"),
        };
    }

    public async Task StopAsync(JobHandle job, CancellationToken ct = default)
    {
        using var _ = await SendAsync(HttpMethod.Post, $"{ExecutionUrl(job)}/stop", null, ct);
    }

    /// <summary>The one container of the job's template, as a start request takes it.</summary>
    async Task<JsonObject> JobContainerAsync(CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Get, JobUrl(), null, ct);
        var job = await response.Content.ReadFromJsonAsync<JsonObject>(ct);
        if (job?["properties"]?["template"]?["containers"] is not JsonArray { Count: 1 } containers || containers[0] is not JsonObject declared)
            throw new InvalidDataException($"job {options.JobName}: its template must have exactly one container");
        var resources = declared["resources"];
        return new JsonObject
        {
            ["name"] = declared["name"]?.DeepClone(),
            ["image"] = declared["image"]?.DeepClone(),
            ["env"] = declared["env"]?.DeepClone() ?? new JsonArray(),
            // cpu and memory only: the job reports ephemeralStorage too, which a start request cannot set.
            ["resources"] = new JsonObject { ["cpu"] = resources?["cpu"]?.DeepClone(), ["memory"] = resources?["memory"]?.DeepClone() },
        };
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
}
