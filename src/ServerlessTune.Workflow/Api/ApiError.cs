using System.Net;

namespace ServerlessTune.Workflow.Api;

/// <summary>A request the API refuses, with the HTTP status and a one-line reason for the JSON error body.</summary>
public sealed class ApiError(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;

    /// <summary>The body every error response carries: {"error": "..."}.</summary>
    public object Body => new { error = Message };
}
