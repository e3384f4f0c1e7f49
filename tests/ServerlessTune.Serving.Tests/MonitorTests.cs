using System.Text.Json.Nodes;
using ServerlessTune.Core.Feedback;

namespace ServerlessTune.Serving.Tests;

/// <summary>`stune monitor` (the real executable) and GET /api/projects/{project}/metrics over the same logs.</summary>
public sealed class MonitorTests(LoggingServer shared) : IClassFixture<LoggingServer>
{
    [Fact]
    public async Task The_command_and_the_endpoint_report_the_same_figures_per_version_and_day()
    {
        var server = shared.Server;
        var ids = new List<string>();
        for (int i = 0; i < 3; i++)
            ids.Add((string)(await server.OkAsync("/v1/chat/completions", new
            {
                model = "tiny", max_tokens = 4, messages = new[] { new { role = "user", content = $"question {i}" } },
            }))["id"]!);
        await server.OkAsync("/v1/feedback", new { completion_id = ids[0], rating = 1 });
        await server.OkAsync("/v1/feedback", new { completion_id = ids[1], rating = -1, correction = "better" });
        var (refused, _) = await server.PostAsync("/v1/chat/completions", new
        {
            model = "tiny", max_tokens = 256, messages = new[] { new { role = "user", content = "too long" } },
        });
        Assert.Equal(400, refused);

        var endpoint = JsonNode.Parse(await server.Http.GetStringAsync("/api/projects/tiny/metrics"))!;
        var day = Assert.Single(endpoint["days"]!.AsArray())!;
        Assert.Equal(("tiny", "tiny"), ((string)endpoint["project"]!, (string)day["version"]!));
        Assert.Equal(4, (int)day["requests"]!);
        Assert.Equal(1, (int)day["errors"]!["context_length_exceeded"]!);
        Assert.Equal((2, 1, 1), ((int)day["rated"]!, (int)day["thumbs_up"]!, (int)day["corrections"]!));
        Assert.Equal(0.5, (double)day["thumbs_up_rate"]!);
        var (low, high) = ((double)day["thumbs_up_interval"]![0]!, (double)day["thumbs_up_interval"]![1]!);
        Assert.Equal(0.094529, low, 1e-5); // Wilson 95 % for 1 of 2
        Assert.Equal(0.905471, high, 1e-5);
        Assert.Equal(1.0, (double)day["length_stop_rate"]!);
        Assert.Equal(3 * 4, (int)day["completion_tokens"]!);
        Assert.True((double)day["latency_ms"]!["p95"]! >= (double)day["latency_ms"]!["p50"]!);

        using var bad = await server.Http.GetAsync("/api/projects/tiny/metrics?since=yesterday");
        Assert.Equal(400, (int)bad.StatusCode);

        var run = StuneProcess.Run("monitor", "--store", shared.StoreFolder.Path, "--project", "tiny", "--json",
            "--html", shared.StoreFolder.File("dashboard.html"));
        Assert.True(run.ExitCode == 0, run.Stderr);
        var command = JsonNode.Parse(run.Stdout)!;
        // The same figures; only the time each was generated differs.
        command["generated"] = endpoint["generated"]!.DeepClone();
        Assert.True(JsonNode.DeepEquals(endpoint, command), $"{endpoint.ToJsonString()}\n{command.ToJsonString()}");
        var html = File.ReadAllText(shared.StoreFolder.File("dashboard.html"));
        Assert.Contains("<svg id=\"requests-chart\"", html);
        Assert.Contains("<table id=\"metrics\">", html);
        Assert.Contains("50% <span class=\"ci\">[9.5%, 90.5%] n=2</span>", html);
        Assert.DoesNotContain("<script", html);

        var text = StuneProcess.Run("monitor", "--store", shared.StoreFolder.Path);
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("tiny: requests 4, errors context_length_exceeded=1", text.Stdout);
        Assert.Equal(2, StuneProcess.Run("monitor", "--store", shared.StoreFolder.Path, "--since", "last week").ExitCode);
    }
}
