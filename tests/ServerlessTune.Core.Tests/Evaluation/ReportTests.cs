using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Tests.Evaluation;

public class ReportTests : IDisposable
{
    readonly TempDir _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Json_reads_back_to_the_same_report()
    {
        var json = ReportJson.Serialize(SampleEvaluation.Report());
        Assert.Contains("\"exact_match\": {", json);
        Assert.Contains("\"status\": \"skipped\"", json);
        Assert.Equal(json, ReportJson.Serialize(ReportJson.Deserialize(json, "report.json")));
    }

    [Fact]
    public void Json_holds_a_diverged_model()
    {
        var report = SampleEvaluation.Report() with
        {
            Models = [new ModelReport("candidate", "x", new Dictionary<string, MetricValue> { ["perplexity"] = new(double.PositiveInfinity, 3) })],
        };
        var json = ReportJson.Serialize(report);
        Assert.Contains("\"Infinity\"", json);
        Assert.Equal(double.PositiveInfinity, ReportJson.Deserialize(json, "report.json").Models[0].Metrics["perplexity"].Value);
    }

    [Fact]
    public void Html_is_self_contained_and_escapes_every_user_text()
    {
        var html = HtmlReport.Render(SampleEvaluation.Report());

        Assert.Contains("<table id=\"metrics\">", html);
        Assert.Contains("<svg id=\"loss-chart\"", html);
        Assert.Contains("<polyline class=\"loss\" fill=\"none\" points=\"", html);
        Assert.Contains("<table id=\"worst-cases\">", html);
        Assert.Contains("<table id=\"by-tag\">", html);
        Assert.Contains("When are you open? &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;img src=x onerror=1&gt;", html);
        Assert.Contains("Hi &lt;b&gt;", html);
        foreach (var forbidden in new[] { "<script", "<img", "<link", "<iframe", "<object", "url(", "@import" })
            Assert.DoesNotContain(forbidden, html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(@"<[^>]+\s(src|href|xlink:href)\s*=", html);
        Assert.Contains("default-src 'none'", html);
    }

    [Fact]
    public void Html_metric_rows_show_values_intervals_and_deltas()
    {
        var html = HtmlReport.Render(SampleEvaluation.Report());
        // exact_match: base 1/3, candidate 2/3, delta +1/3 with 2 wins and 1 loss.
        Assert.Matches("<tr><th title=\"[^\"]*\">exact_match</th><td class=\"num\">0.3333 <span class=\"ci\">\\[[0-9.]+, [0-9.]+\\] n=3</span></td>"
            + "<td class=\"num\">0.6667 <span class=\"ci\">\\[[0-9.]+, [0-9.]+\\] n=3</span></td>"
            + "<td class=\"num better\">\\+0.3333 \\(\\+100%\\) <span class=\"ci\">\\[[-+0-9.]+, [-+0-9.]+\\]</span> <span class=\"wlt\">2W/1L/0T</span></td></tr>", html);
        Assert.Contains("<p id=\"gate\" class=\"gate pass\">gate passed (enforce): 2 passed, 0 failed, 1 skipped of 3 rules</p>", html);
    }

    [Fact]
    public void Markdown_summarises_gate_table_and_worst_cases_with_user_text_escaped()
    {
        var md = MarkdownReport.Render(SampleEvaluation.Report());
        Assert.StartsWith("## Evaluation of run r1: candidate vs base\n", md.ReplaceLineEndings("\n"));
        Assert.Contains("**✅ gate passed (enforce): 2 passed, 0 failed, 1 skipped of 3 rules**", md);
        Assert.Contains("- skipped: candidate exact\\_match \\>= production exact\\_match - 0.01: no model 'production' was evaluated", md);
        Assert.Contains("| exact_match | 3 | 0.3333 [", md);
        Assert.Contains("▲ +0.3333 2W/1L/0T |", md);
        Assert.Contains("| perplexity | 10 | 7.389 | 2.718 | ▲ -4.671 |", md);
        Assert.Contains("- `c4` When are you open? \\<script\\>alert('x')\\</script\\> \\& \\<img src=x onerror=1\\> (F1 0.75)", md);
        Assert.DoesNotMatch(@"(?<!\\)[<>]", md); // every angle bracket is escaped, so no HTML reaches a renderer
    }

    [Fact]
    public async Task Writes_the_three_files_to_a_store_and_to_a_folder_alike()
    {
        var report = SampleEvaluation.Report();
        var store = new LocalFolderStore(Path.Combine(_files.Path, "store"));
        await ReportWriter.WriteAsync(report, store);
        var folder = Path.Combine(_files.Path, "out");
        ReportWriter.WriteToDirectory(report, folder);

        foreach (var name in new[] { "report.json", "report.md", "report.html" })
        {
            using var reader = new StreamReader(await store.OpenReadAsync($"reports/r1/{name}"));
            var fromStore = await reader.ReadToEndAsync();
            Assert.Equal(fromStore, await File.ReadAllTextAsync(Path.Combine(folder, name)));
        }
        Assert.Equal(["report.html", "report.json", "report.md"], Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }
}
