using System.ClientModel.Primitives;

namespace ServerlessTune.Azure.Hosted;

/// <summary>
/// Azure.AI.OpenAI 2.9.0-beta.1 sends two of its calls with OpenAI's route instead of Azure OpenAI's: retrieving a
/// fine-tuning job (GET {endpoint}/fine_tuning/jobs/{id}: FineTuningClient.GetJob, FineTuningJob.Rehydrate and
/// UpdateStatus) and listing files (GET {endpoint}/files); every other call goes to {endpoint}/openai/...?api-version=.
/// Azure OpenAI serves both under /openai/ with the same api-version, so this policy moves them there. The loopback
/// tests answer the unrouted paths with 404, so a library version that fixes (or changes) the routes shows here.
/// </summary>
public sealed class AzureFineTuningRoutes(Uri endpoint) : PipelinePolicy
{
    /// <summary>The data-plane api-version Azure.AI.OpenAI 2.9.0-beta.1 sends with its other fine-tuning calls.</summary>
    public const string ApiVersion = "2025-04-01-preview";

    readonly string _root = endpoint.AbsoluteUri.TrimEnd('/') + "/";

    public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        Reroute(message.Request);
        ProcessNext(message, pipeline, currentIndex);
    }

    public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        Reroute(message.Request);
        return ProcessNextAsync(message, pipeline, currentIndex);
    }

    void Reroute(PipelineRequest request)
    {
        if (request.Method != "GET" || request.Uri is not { } uri || !uri.AbsoluteUri.StartsWith(_root, StringComparison.Ordinal)) return;
        string[] segments = uri.AbsolutePath[new Uri(_root).AbsolutePath.Length..].Trim('/').Split('/');
        if (segments is not (["fine_tuning", "jobs", _] or ["files"])) return;
        string query = uri.Query.Length > 1 ? uri.Query[1..] + "&" : "";
        request.Uri = new Uri($"{_root}openai/{string.Join('/', segments)}?{query}api-version={ApiVersion}");
    }
}
