using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using ServerlessTune.Core.Feedback;
using ServerlessTune.Serving.Hosted;
using ServerlessTune.Serving.Logging;
using ServerlessTune.Serving.Models;
using ServerlessTune.Serving.Protocol;

namespace ServerlessTune.Serving.Http;

/// <summary>
/// POST /v1/feedback: appends a rating to feedback/{project}/... for a completion the conversation log knows (else 404).
/// Rating an id again appends again; readers keep the latest (<see cref="FeedbackRecord.Latest"/>).
/// </summary>
sealed class FeedbackEndpoint(ModelCatalog catalog, HostedRoutes hosted, ServingLimits limits, ConversationLog? log, ServingMetrics metrics)
{
    /// <summary>Bounds the body below the server-wide limit before it is read.</summary>
    public void LimitBody(HttpContext http)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = limits.MaxFeedbackBytes;
    }

    public async Task HandleAsync(HttpContext http, JsonElement body)
    {
        var request = FeedbackRequest.Parse(body, limits);
        if (log is null)
            throw new ProtocolException(404, "this server keeps no conversation log (serve with a store), so no completion can be rated",
                "completion_id", "completion_not_found");
        var projects = catalog.Names.Select(n => n.Model.Project).Concat(hosted.Names.Select(n => n.Route.Project));
        var served = await log.FindAsync(request.CompletionId, projects, http.RequestAborted)
                     ?? throw new ProtocolException(404, $"No completion found with id '{request.CompletionId}'.", "completion_id",
                         "completion_not_found");
        var rating = new FeedbackRecord
        {
            CompletionId = request.CompletionId,
            Project = served.Project,
            Version = served.Version,
            Rating = request.Rating,
            Comment = request.Comment,
            Correction = request.Correction,
            Created = DateTimeOffset.UtcNow,
        };
        metrics.Record(rating);
        log.Append(rating);
        await http.Response.WriteAsJsonAsync(new FeedbackReceipt(request.CompletionId, served.Project, served.Version, request.Rating,
            request.Correction is not null), ProtocolJson.Options, http.RequestAborted);
    }
}
