using System.Text.Json;

namespace ServerlessTune.Serving.Protocol;

/// <summary>POST /v1/feedback: a rating of one completion, with an optional comment and the answer it should have been.</summary>
public sealed record FeedbackRequest(string CompletionId, int Rating, string? Comment, string? Correction)
{
    public static FeedbackRequest Parse(JsonElement root, ServingLimits limits)
    {
        var f = RequestFields.Root(root);
        var id = f.RequiredString("completion_id");
        if (id.Length is 0 or > 128) throw ProtocolException.BadValue("completion_id", "1 to 128 characters");
        var rating = f.Integer("rating", -1, 1)
                     ?? throw new ProtocolException(400, "rating: missing", "rating", "missing_required_parameter");
        if (rating == 0) throw ProtocolException.BadValue("rating", "+1 (good) or -1 (bad)");
        string? Text(string name) => f.String(name, limits.MaxFeedbackText) is { } s && s.Trim().Length > 0 ? s : null;
        return new FeedbackRequest(id, (int)rating, Text("comment"), Text("correction"));
    }
}

public sealed record FeedbackReceipt(string CompletionId, string Project, string Version, int Rating, bool Correction)
{
    public string Object => "feedback";
}
