using System.Diagnostics;
using System.Diagnostics.Metrics;
using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Feedback;

namespace ServerlessTune.Serving.Logging;

/// <summary>
/// The counters `stune monitor` computes from the logs, measured as they happen so a host can export them
/// (the Azure serving app sends them to Application Insights through OpenTelemetry). They are taken from the same
/// records the conversation log appends, before redaction, so the two never disagree; they hold no text.
/// </summary>
public sealed class ServingMetrics
{
    /// <summary>The meter an OpenTelemetry host subscribes to.</summary>
    public const string MeterName = "ServerlessTune.Serving";

    readonly Counter<long> requests;
    readonly Histogram<double> latency;
    readonly Histogram<double> firstToken;
    readonly Counter<long> tokens;
    readonly Counter<long> choices;
    readonly Counter<long> ratings;

    public ServingMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        requests = meter.CreateCounter<long>("stune.serving.requests", "{request}", "Requests answered or failed, by project, version, endpoint and error.type.");
        latency = meter.CreateHistogram<double>("stune.serving.request.duration", "ms", "Request arrival to the last token of an answered request.");
        firstToken = meter.CreateHistogram<double>("stune.serving.time_to_first_token", "ms", "Request arrival to the first generated token.");
        tokens = meter.CreateCounter<long>("stune.serving.tokens", "{token}", "Prompt (input) and completion (output) tokens of answered requests.");
        choices = meter.CreateCounter<long>("stune.serving.choices", "{choice}", "Answered choices by finish_reason and whether the answer declines.");
        ratings = meter.CreateCounter<long>("stune.serving.feedback", "{rating}", "Ratings received, up or down, and whether they carry a correction.");
    }

    public void Record(ConversationRecord record)
    {
        var version = Tags(record.Project, record.Version);
        var request = version;
        request.Add("stune.endpoint", record.Endpoint);
        if (record.Error is { } error) request.Add("error.type", error.Kind);
        requests.Add(1, request);
        if (record.Error is not null) return;
        latency.Record(record.LatencyMs, version);
        if (record.TtftMs is { } ttft) firstToken.Record(ttft, version);
        tokens.Add(record.PromptTokens, With(version, "stune.token.type", "input"));
        tokens.Add(record.CompletionTokens, With(version, "stune.token.type", "output"));
        foreach (var choice in record.Choices)
        {
            var tags = With(version, "finish_reason", choice.FinishReason);
            tags.Add("stune.refusal", choice.Text is { } text && RefusalDetector.FindRefusal(text) is not null);
            choices.Add(1, tags);
        }
    }

    public void Record(FeedbackRecord record)
    {
        var tags = With(Tags(record.Project, record.Version), "stune.rating", record.Rating > 0 ? "up" : "down");
        tags.Add("stune.corrected", record.Correction is not null);
        ratings.Add(1, tags);
    }

    static TagList Tags(string project, string version) => new() { { "stune.project", project }, { "stune.version", version } };

    static TagList With(TagList tags, string key, object? value)
    {
        tags.Add(key, value);
        return tags;
    }
}
