using System.ClientModel;
using System.IO.Compression;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;
using OpenTelemetry.Metrics;
using ServerlessTune.Azure.Monitoring;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Tests;
using ServerlessTune.Serving.Logging;

namespace ServerlessTune.Serving.Tests;

/// <summary>
/// The serving counters as an OpenTelemetry host sees them: read back with the in-memory exporter, and sent by the
/// Azure Monitor exporter, configured the way `stune serve` configures it in Azure, to a loopback ingestion endpoint.
/// Each test serves its own model name, so measurements of servers other tests run at the same time never count. The
/// tests run alone all the same: OpenTelemetry's listener hears every meter of the serving name in the process, and
/// another test's server disposing its meter mid-run is the likely reason this test's last export once lacked its
/// counts in CI (requests: expected 3, got 0).
/// </summary>
[Collection(nameof(TelemetryTests))]
public sealed class TelemetryTests
{
    [Fact]
    public async Task The_counters_match_the_answers_the_ratings_and_the_refusals()
    {
        using var root = new TempDir();
        ModelInitializer.Run("llama", "tiny", root.File("metered"), seed: 11);
        var exported = new List<MetricSnapshot>();
        var server = await TestServer.StartAsync(TestServer.Options(s => s with { ModelFolder = root.File("metered"), MaxContext = 256 }),
            new LocalFolderStore(root.File("store")),
            services => services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(ServingMetrics.MeterName).AddInMemoryExporter(exported)));
        var chat = server.OpenAI().GetChatClient("metered");
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 4 };
        var answers = new List<ChatCompletion>();
        for (int i = 0; i < 2; i++) answers.Add((await chat.CompleteChatAsync([new UserChatMessage($"question {i}")], options)).Value);
        ChatTokenUsage? streamed = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("streamed")], options))
            streamed = update.Usage ?? streamed;
        Assert.NotNull(streamed);
        var tooLong = await Assert.ThrowsAsync<ClientResultException>(() =>
            chat.CompleteChatAsync([new UserChatMessage("too long")], new ChatCompletionOptions { MaxOutputTokenCount = 256 }));
        Assert.Equal(400, tooLong.Status);
        await server.OkAsync("/v1/feedback", new { completion_id = answers[0].Id, rating = 1 });
        await server.OkAsync("/v1/feedback", new { completion_id = answers[1].Id, rating = -1, correction = "the better answer" });
        // Exported now, with time to spare: disposing the provider exports too, but gives up after 5 s, which a
        // loaded machine can exceed, and then the last export is an earlier periodic one.
        Assert.True(server.App.Services.GetRequiredService<MeterProvider>().ForceFlush(120_000), "the metrics export timed out");
        await server.DisposeAsync();

        Assert.Equal(3, Sum(exported, "stune.serving.requests", ("stune.project", "metered"), ("stune.endpoint", "chat"), ("error.type", null)));
        Assert.Equal(1, Sum(exported, "stune.serving.requests", ("stune.project", "metered"), ("error.type", "context_length_exceeded")));
        Assert.Equal(answers.Sum(a => a.Usage.InputTokenCount) + streamed.InputTokenCount,
            Sum(exported, "stune.serving.tokens", ("stune.project", "metered"), ("stune.token.type", "input")));
        Assert.Equal(answers.Sum(a => a.Usage.OutputTokenCount) + streamed.OutputTokenCount,
            Sum(exported, "stune.serving.tokens", ("stune.project", "metered"), ("stune.token.type", "output")));
        Assert.Equal(3, Sum(exported, "stune.serving.choices", ("stune.project", "metered"), ("finish_reason", "length")));
        Assert.Equal(3, Count(exported, "stune.serving.request.duration", ("stune.project", "metered")));
        Assert.Equal(3, Count(exported, "stune.serving.time_to_first_token", ("stune.project", "metered")));
        Assert.Equal(1, Sum(exported, "stune.serving.feedback", ("stune.project", "metered"), ("stune.rating", "up"), ("stune.corrected", false)));
        Assert.Equal(1, Sum(exported, "stune.serving.feedback", ("stune.project", "metered"), ("stune.rating", "down"), ("stune.corrected", true)));
    }

    [Fact]
    public async Task The_Azure_Monitor_exporter_sends_them_to_the_ingestion_endpoint_the_connection_string_names()
    {
        await using var ingestion = await Ingestion.StartAsync();
        using var root = new TempDir();
        ModelInitializer.Run("llama", "tiny", root.File("exported"), seed: 11);
        const string key = "6f1b3a2c-0d4e-4f5a-9b8c-7d6e5f4a3b2c";
        var environment = new Dictionary<string, string?>
        {
            [AzureMonitorMetrics.ConnectionVariable] = $"InstrumentationKey={key};IngestionEndpoint={ingestion.Address}",
        };
        var telemetry = AzureMonitorMetrics.FromEnvironment(n => environment.GetValueOrDefault(n), ServingMetrics.MeterName);
        Assert.NotNull(telemetry);
        Assert.Null(AzureMonitorMetrics.FromEnvironment(_ => null, ServingMetrics.MeterName));
        var server = await TestServer.StartAsync(TestServer.Options(s => s with { ModelFolder = root.File("exported"), MaxContext = 256 }), null,
            telemetry);
        await server.OkAsync("/v1/chat/completions", new { model = "exported", max_tokens = 3, messages = new[] { new { role = "user", content = "zebra lantern" } } });
        await server.DisposeAsync();

        var sent = string.Join("\n", ingestion.Bodies);
        Assert.Contains("stune.serving.requests", sent);
        Assert.Contains("stune.serving.tokens", sent);
        Assert.Contains("\"stune.project\":\"exported\"", sent);
        Assert.Contains(key, sent);
        Assert.DoesNotContain("zebra", sent); // counters, never the conversation
    }

    static long Sum(List<MetricSnapshot> exported, string name, params (string Key, object? Value)[] tags) =>
        Points(exported, name, tags).Sum(p => p.GetSumLong());

    static long Count(List<MetricSnapshot> exported, string name, params (string Key, object? Value)[] tags) =>
        Points(exported, name, tags).Sum(p => p.GetHistogramCount());

    /// <summary>The points of the last export of a metric whose tags have these values (null: the tag is absent).</summary>
    static IEnumerable<MetricPoint> Points(List<MetricSnapshot> exported, string name, (string Key, object? Value)[] tags)
    {
        var metric = exported.Last(m => m.Name == name);
        foreach (var point in metric.MetricPoints)
        {
            var present = new Dictionary<string, object?>();
            foreach (var tag in point.Tags) present[tag.Key] = tag.Value;
            if (tags.All(t => Equals(present.GetValueOrDefault(t.Key), t.Value))) yield return point;
        }
    }

    /// <summary>A loopback Application Insights ingestion endpoint: accepts every track request and keeps its (gunzipped) body.</summary>
    sealed class Ingestion : IAsyncDisposable
    {
        readonly WebApplication app;
        public List<string> Bodies { get; } = [];
        public string Address { get; private set; } = "";

        Ingestion(WebApplication app) => this.app = app;

        public static async Task<Ingestion> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var ingestion = new Ingestion(builder.Build());
            ingestion.app.MapPost("/v2.1/track", async (HttpContext http) =>
            {
                Stream body = http.Request.Headers.ContentEncoding == "gzip" ? new GZipStream(http.Request.Body, CompressionMode.Decompress) : http.Request.Body;
                var text = await new StreamReader(body, Encoding.UTF8).ReadToEndAsync();
                int items = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
                lock (ingestion.Bodies) ingestion.Bodies.Add(text);
                return Results.Json(new { itemsReceived = items, itemsAccepted = items, errors = Array.Empty<object>() });
            });
            await ingestion.app.StartAsync();
            ingestion.Address = ingestion.app.Urls.First() + "/";
            return ingestion;
        }

        public async ValueTask DisposeAsync() => await app.DisposeAsync();
    }
}

/// <summary>Runs <see cref="TelemetryTests"/> after the parallel tests, with no other server's meters coming and going.</summary>
[CollectionDefinition(nameof(TelemetryTests), DisableParallelization = true)]
public sealed class TelemetryTestsAlone;
