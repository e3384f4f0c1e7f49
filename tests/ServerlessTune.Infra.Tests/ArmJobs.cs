using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace ServerlessTune.Infra.Tests;

/// <summary>
/// ARM's Container Apps jobs endpoints on a loopback handler (Jobs - Get, Jobs - Start, Job Execution - Get,
/// Jobs - Stop Execution, as the REST reference documents them), serving the job infra/ declares; it keeps every
/// request so the checks can compare what the launcher sent with the declaration and the role.
/// </summary>
public sealed class ArmJobs(JsonObject job) : HttpMessageHandler
{
    public sealed record Request(HttpMethod Method, string Path, JsonNode? Body);

    public List<Request> Requests { get; } = [];

    string JobPath => Snapshot.Id(job);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string path = request.RequestUri!.AbsolutePath;
        var body = request.Content is null ? null : JsonNode.Parse(await request.Content.ReadAsStringAsync(cancellationToken));
        Requests.Add(new Request(request.Method, path, body));
        string execution = $"{Snapshot.Text(job, "name")}-x1";
        JsonNode? answer = (request.Method.Method, path) switch
        {
            ("GET", var p) when p == JobPath => Deployed(),
            ("POST", var p) when p == $"{JobPath}/start" => new JsonObject { ["id"] = $"{JobPath}/executions/{execution}", ["name"] = execution },
            ("GET", var p) when p == $"{JobPath}/executions/{execution}" => new JsonObject { ["name"] = execution, ["properties"] = new JsonObject { ["status"] = "Running" } },
            ("POST", var p) when p == $"{JobPath}/executions/{execution}/stop" => new JsonObject(),
            _ => null,
        };
        return answer is null
            ? new HttpResponseMessage(HttpStatusCode.NotFound) { Content = new StringContent("""{"error":{"code":"ResourceNotFound"}}""") }
            : new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(answer.ToJsonString(), Encoding.UTF8, "application/json") };
    }

    /// <summary>The job as Jobs - Get returns it once deployed: the declaration, plus what ARM fills in.</summary>
    JsonObject Deployed()
    {
        var deployed = job.DeepClone().AsObject();
        deployed["properties"]!["provisioningState"] = "Succeeded";
        Snapshot.Container(deployed)["resources"]!["ephemeralStorage"] = "8Gi";
        return deployed;
    }
}
