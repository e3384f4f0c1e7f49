using System.Globalization;
using System.Net;
using System.Text;
using ServerlessTune.Core.Evaluation;

namespace ServerlessTune.Core.Feedback;

/// <summary>
/// The monitoring dashboard: one self-contained page like report.html (inline CSS and SVG, no script, nothing fetched):
/// requests and thumbs-up rate per day and version as charts, then every figure in one table.
/// </summary>
public static class UsageDashboard
{
    const string Style = HtmlReport.BaseStyle + """
        .ci{color:#57606a;font-size:12px}
        svg text{font-size:11px;fill:#57606a}svg .plot{fill:#fff;stroke:#d0d7de}svg .whisker{stroke:#1b1f23}
        """;

    static readonly string[] Colours = ["#0969da", "#bf3989", "#1a7f37", "#9a6700", "#8250df", "#cf222e"];

    public static string Render(UsageReport report)
    {
        var html = new StringBuilder();
        HtmlReport.AppendHead(html, $"Monitoring {report.Project}", Style);
        html.Append($"<h1>{E(report.Project)} in use</h1>\n<p>Served conversations and ratings per version and UTC day");
        html.Append(report.Since is { } since ? $" since {since:yyyy-MM-dd}" : "");
        html.Append($"; generated {report.Generated:yyyy-MM-dd HH:mm} UTC.</p>\n");
        if (report.Days.Count == 0)
        {
            html.Append("<p id=\"empty\">Nothing served in this period.</p></body></html>\n");
            return html.ToString();
        }
        var versions = report.Days.Select(d => d.Version).Distinct().ToList();
        html.Append("<h2>Requests</h2>\n").Append(Bars(report, versions, "requests-chart", d => d.Requests, null));
        html.Append("<h2>Thumbs up</h2>\n").Append(Bars(report, versions, "thumbs-chart", d => d.ThumbsUpRate, d => d.ThumbsUpInterval));
        AppendTable(html, report);
        html.Append("</body></html>\n");
        return html.ToString();
    }

    static void AppendTable(StringBuilder html, UsageReport report)
    {
        html.Append("<h2>By version and day</h2>\n<table id=\"metrics\"><thead><tr><th>day</th><th>version</th><th>requests</th><th>errors</th>");
        html.Append("<th>latency p50 / p95 ms</th><th>TTFT p50 / p95 ms</th><th>tokens in / out</th><th>thumbs up</th><th>corrections</th>");
        html.Append("<th>refusals</th><th>length stops</th></tr></thead><tbody>\n");
        foreach (var d in report.Days)
        {
            html.Append($"<tr><td>{d.Day:yyyy-MM-dd}</td><td>{E(d.Version)}</td><td class=\"num\">{d.Requests}</td>");
            html.Append($"<td>{E(string.Join(", ", d.Errors.Select(e => $"{e.Key} {e.Value}")))}</td>");
            html.Append($"<td class=\"num\">{SpreadText(d.LatencyMs)}</td><td class=\"num\">{SpreadText(d.TtftMs)}</td>");
            html.Append($"<td class=\"num\">{d.PromptTokens} / {d.CompletionTokens}</td>");
            html.Append(d.ThumbsUpRate is { } rate
                ? $"<td class=\"num\">{Percent(rate)} <span class=\"ci\">[{Percent(d.ThumbsUpInterval![0])}, {Percent(d.ThumbsUpInterval[1])}] n={d.Rated}</span></td>"
                : "<td class=\"num\">–</td>");
            html.Append($"<td class=\"num\">{d.Corrections}</td><td class=\"num\">{Rate(d.RefusalRate)}</td><td class=\"num\">{Rate(d.LengthStopRate)}</td></tr>\n");
        }
        html.Append("</tbody></table>\n<p class=\"ci\">[low, high]: Wilson 95 % interval of the thumbs-up rate; n: rated completions (the latest rating of each).</p>\n");
    }

    /// <summary>Grouped bars: one group per day, one bar per version, optional whiskers.</summary>
    static string Bars(UsageReport report, List<string> versions, string id, Func<VersionDay, double?> value, Func<VersionDay, double[]?>? interval)
    {
        const double width = 720, height = 240, left = 48, bottom = 36, top = 12, right = 12;
        var days = report.Days.Select(d => d.Day).Distinct().Order().ToList();
        double max = interval is null ? Math.Max(1, report.Days.Max(d => value(d) ?? 0)) : 1;
        double group = (width - left - right) / days.Count, bar = group * 0.8 / versions.Count;
        double Y(double v) => top + (1 - v / max) * (height - top - bottom);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg id=\"{id}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height + 18 * versions.Count}\" width=\"{width}\" role=\"img\">");
        svg.Append(CultureInfo.InvariantCulture, $"<rect class=\"plot\" x=\"{left}\" y=\"{top}\" width=\"{width - left - right}\" height=\"{height - top - bottom}\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 6}\" y=\"{top + 4}\" text-anchor=\"end\">{(interval is null ? ReportFormat.Number(max) : "100%")}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left - 6}\" y=\"{height - bottom + 4}\" text-anchor=\"end\">0</text>");
        for (int g = 0; g < days.Count; g++)
        {
            double x0 = left + g * group + group * 0.1;
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(left + (g + 0.5) * group)}\" y=\"{height - bottom + 16}\" text-anchor=\"middle\">{days[g]:yyyy-MM-dd}</text>");
            for (int v = 0; v < versions.Count; v++)
            {
                if (report.Days.FirstOrDefault(d => d.Day == days[g] && d.Version == versions[v]) is not { } row || value(row) is not { } y) continue;
                double x = x0 + v * bar;
                svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{F(x)}\" y=\"{F(Y(y))}\" width=\"{F(bar * 0.9)}\" height=\"{F(Y(0) - Y(y))}\" fill=\"{Colours[v % Colours.Length]}\"><title>{E(versions[v])} {days[g]:yyyy-MM-dd}: {ReportFormat.Number(y)}</title></rect>");
                if (interval?.Invoke(row) is [var low, var high])
                    svg.Append(CultureInfo.InvariantCulture, $"<line class=\"whisker\" x1=\"{F(x + bar * 0.45)}\" x2=\"{F(x + bar * 0.45)}\" y1=\"{F(Y(low))}\" y2=\"{F(Y(high))}\"/>");
            }
        }
        for (int v = 0; v < versions.Count; v++)
        {
            double y = height + 4 + 18 * v;
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{left}\" y=\"{F(y)}\" width=\"12\" height=\"12\" fill=\"{Colours[v % Colours.Length]}\"/><text x=\"{left + 18}\" y=\"{F(y + 10)}\">{E(versions[v])}</text>");
        }
        return svg.Append("</svg>\n").ToString();
    }

    static string SpreadText(Spread? s) => s is null ? "–" : $"{s.P50.ToString("0", CultureInfo.InvariantCulture)} / {s.P95.ToString("0", CultureInfo.InvariantCulture)}";
    static string Percent(double v) => v.ToString("0.#%", CultureInfo.InvariantCulture);
    static string Rate(double? v) => v is { } r ? Percent(r) : "–";
    static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
    static string E(string text) => WebUtility.HtmlEncode(text);
}
