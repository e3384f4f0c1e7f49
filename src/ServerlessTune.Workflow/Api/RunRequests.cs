using System.Net;
using System.Text.Json;
using ServerlessTune.Core;
using ServerlessTune.Core.Common;
using ServerlessTune.Core.PipelineConfig;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Workflow.Api;

/// <param name="Options">The body's "config" object, parsed as pipeline.json; null = use the project's pipeline.json.</param>
public sealed record StartRunRequest(string Project, PipelineOptions? Options);

/// <summary>
/// Reads the HTTP API's request bodies: bounded in size, strict JSON objects, unknown keys refused,
/// names validated so a project or run id can never address another folder.
/// </summary>
public static class RunRequests
{
    /// <summary>A start request carries at most a pipeline.json; 64 KiB is far more than one needs.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    /// <summary>POST /runs: {"project": "...", "config": { pipeline.json }}.</summary>
    public static async Task<StartRunRequest> ReadStartAsync(Stream body, long? contentLength, CancellationToken ct = default)
    {
        using var document = await ReadObjectAsync(body, contentLength, required: true, ct);
        var root = document!.RootElement;
        Refuse(() => JsonFields.RejectUnknownKeys(root, "body", "project", "config"));
        string project = Refuse(() => JsonFields.RequiredString(root, "project", "body"));
        Refuse(() => ArtifactPath.ValidateName(project, "project"));
        if (!root.TryGetProperty("config", out var config) || config.ValueKind == JsonValueKind.Null)
            return new StartRunRequest(project, null);
        var options = Refuse(() => PipelineOptionsParser.Parse(config.GetRawText(), "body: config"));
        if (options.Project is { } named && named != project)
            throw new ApiError(HttpStatusCode.BadRequest, $"body: config: project: '{named}' differs from the body's project '{project}'");
        return new StartRunRequest(project, options);
    }

    /// <summary>POST /runs/{id}/approve: {"approved": true|false, "by": "...", "comment": "..."}.</summary>
    public static async Task<ApprovalDecision> ReadApprovalAsync(Stream body, long? contentLength, CancellationToken ct = default)
    {
        using var document = await ReadObjectAsync(body, contentLength, required: true, ct);
        var root = document!.RootElement;
        Refuse(() => JsonFields.RejectUnknownKeys(root, "body", "approved", "by", "comment"));
        bool approved = Refuse(() => JsonFields.OptionalBoolean(root, "approved", "body"))
                        ?? throw new ApiError(HttpStatusCode.BadRequest, "body: approved: missing (true or false)");
        return new ApprovalDecision(approved, Refuse(() => JsonFields.OptionalString(root, "by", "body")),
            Refuse(() => JsonFields.OptionalString(root, "comment", "body")));
    }

    /// <summary>POST /runs/{id}/terminate: optional {"reason": "..."}.</summary>
    public static async Task<string> ReadTerminateReasonAsync(Stream body, long? contentLength, CancellationToken ct = default)
    {
        using var document = await ReadObjectAsync(body, contentLength, required: false, ct);
        if (document is null) return "terminated through the API";
        var root = document.RootElement;
        Refuse(() => JsonFields.RejectUnknownKeys(root, "body", "reason"));
        return Refuse(() => JsonFields.OptionalString(root, "reason", "body")) ?? "terminated through the API";
    }

    /// <summary>A run id from a route: a single safe segment, as every run id is.</summary>
    public static string RunId(string value) => Refuse(() => ArtifactPath.ValidateName(value, "run id"));

    static async Task<JsonDocument?> ReadObjectAsync(Stream body, long? contentLength, bool required, CancellationToken ct)
    {
        if (contentLength > MaxBodyBytes) throw TooLarge();
        // Content-Length may be absent (chunked) or wrong: count what actually arrives.
        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes) throw TooLarge();
            buffer.Write(chunk, 0, read);
        }
        if (buffer.Length == 0)
            return required ? throw new ApiError(HttpStatusCode.BadRequest, "body: empty, expected a JSON object") : null;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(buffer.ToArray(), new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            throw new ApiError(HttpStatusCode.BadRequest, $"body:{(e.LineNumber ?? 0) + 1}: invalid JSON");
        }
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw new ApiError(HttpStatusCode.BadRequest, "body: expected a JSON object");
        }
        return document;
    }

    static ApiError TooLarge() => new(HttpStatusCode.RequestEntityTooLarge, $"body: larger than {MaxBodyBytes} bytes");

    static T Refuse<T>(Func<T> read)
    {
        try { return read(); }
        catch (UserInputException e) { throw new ApiError(HttpStatusCode.BadRequest, e.Message); }
    }

    static void Refuse(Action check) => Refuse(() => { check(); return true; });
}
