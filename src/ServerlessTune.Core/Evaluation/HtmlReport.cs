using System.Net;
using System.Text;

namespace ServerlessTune.Core.Evaluation;

/// <summary>
/// report.html: one self-contained page (inline CSS and SVG, no script, nothing fetched; the content
/// security policy forbids any load) with the gate, the metric table with deltas, the loss curves, the
/// worst cases and the sample dialogues. Every piece of user or model text is HTML-escaped.
/// </summary>
public static class HtmlReport
{
    /// <summary>The look every self-contained page of the product shares (this report, the monitoring dashboard).</summary>
    public const string BaseStyle = """
        body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#1b1f23;padding:0 16px}
        h1{font-size:22px}h2{font-size:18px;margin-top:28px}
        table{border-collapse:collapse;margin:8px 0;width:100%}
        th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
        th{background:#f6f8fa}td.num{text-align:right;white-space:nowrap}
        """;

    const string Style = BaseStyle + """
        .ci,.wlt{color:#57606a;font-size:12px}.better{color:#1a7f37}.worse{color:#cf222e}
        .gate{padding:8px 12px;border-radius:6px;font-weight:600}.gate.pass{background:#dafbe1}.gate.fail{background:#ffebe9}
        li.failed{color:#cf222e}li.skipped{color:#9a6700}
        pre{white-space:pre-wrap;margin:0;font:inherit}
        .turn{margin:4px 0;padding:6px 10px;border-radius:6px;background:#f6f8fa}.turn.assistant{background:#ddf4ff}
        svg text{font-size:11px;fill:#57606a}svg .plot{fill:#fff;stroke:#d0d7de}svg .grid{stroke:#eaeef2}
        svg .loss{stroke:#0969da;stroke-width:2;fill:none}svg .val-loss{stroke:#bf3989;stroke-width:2;fill:none}
        svg circle.loss{fill:#0969da}svg circle.val-loss{fill:#bf3989}
        """;

    public static string Render(EvaluationReport report)
    {
        var html = new StringBuilder();
        AppendHead(html, $"Evaluation {report.RunId}", Style);
        html.Append($"<h1>Evaluation of run {E(report.RunId)}</h1>\n<p>Candidate <b>{E(report.Candidate)}</b>");
        if (report.SuiteSource is not null)
            html.Append($", suite {E(report.SuiteSource)} ({report.Cases.Count} cases)");
        html.Append(".</p>\n");
        AppendGate(html, report.Gate);
        AppendMetrics(html, report);
        AppendSummaries(html, "By tag", "by-tag", "tag", report.ByTag);
        AppendContamination(html, report);
        if (report.Feedback is { } feedback) FeedbackSection.Html(html, feedback);
        AppendTraining(html, report.Training);
        AppendWorstCases(html, report);
        AppendDialogues(html, report.Dialogues);
        AppendSettings(html, report.Settings);
        html.Append("</body></html>\n");
        return html.ToString();
    }

    /// <summary>The page's head: no script and nothing fetched (the content security policy forbids any load), then the body opens.</summary>
    public static void AppendHead(StringBuilder html, string title, string style)
    {
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        html.Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">");
        html.Append($"<title>{E(title)}</title><style>{style}</style></head><body>\n");
    }

    static void AppendGate(StringBuilder html, GateResult? gate)
    {
        if (gate is null)
            return;
        html.Append($"<h2>Quality gate</h2>\n<p id=\"gate\" class=\"gate {(gate.Passed ? "pass" : "fail")}\">{E(gate.Summary())}</p>\n<ul>");
        foreach (var rule in gate.Rules)
            html.Append($"<li class=\"{rule.Status.ToString().ToLowerInvariant()}\">{E(rule.Message)}</li>");
        html.Append("</ul>\n");
    }

    static void AppendMetrics(StringBuilder html, EvaluationReport report)
    {
        var references = ReportFormat.References(report).ToList();
        html.Append("<h2>Metrics</h2>\n<table id=\"metrics\"><thead><tr><th>metric</th>");
        foreach (var model in report.Models)
            html.Append($"<th title=\"{E(model.Source)}\">{E(model.Name)}</th>");
        foreach (var reference in references)
            html.Append($"<th>Δ {E(report.Candidate)} vs {E(reference)}</th>");
        html.Append("</tr></thead><tbody>\n");
        foreach (var metric in ReportFormat.PresentMetrics(report))
        {
            html.Append($"<tr><th title=\"{E(metric.Description)}\">{E(metric.Name)}</th>");
            foreach (var model in report.Models)
                html.Append(ValueCell(model.Metrics.GetValueOrDefault(metric.Name)));
            foreach (var reference in references)
            {
                var delta = ReportFormat.FindDelta(report, metric.Name, reference);
                if (delta is null)
                {
                    html.Append("<td class=\"num\">–</td>");
                    continue;
                }
                var cssClass = delta.Improved switch { true => "num better", false => "num worse", null => "num" };
                var relative = delta.Relative is { } r ? $" ({(r > 0 ? "+" : "")}{r.ToString("0.#%", System.Globalization.CultureInfo.InvariantCulture)})" : "";
                html.Append($"<td class=\"{cssClass}\">{ReportFormat.Signed(delta.Delta)}{relative} <span class=\"ci\">{ReportFormat.Interval(delta)}</span> <span class=\"wlt\">{ReportFormat.WinsLossesTies(delta)}</span></td>");
            }
            html.Append("</tr>\n");
        }
        html.Append("</tbody></table>\n<p class=\"ci\">[low, high]: bootstrap confidence interval over cases (level and resamples under Settings); n: cases or tokens; W/L/T: cases where the candidate is better, worse or equal.</p>\n");
    }

    /// <summary>Suite means of each model over groups of cases: by tag, or clean and contaminated.</summary>
    static void AppendSummaries(StringBuilder html, string title, string id, string group, IReadOnlyList<TagSummary> byTag)
    {
        if (byTag.Count == 0)
            return;
        var models = byTag.Select(t => t.Model).Distinct().ToList();
        html.Append($"<h2>{title}</h2>\n<table id=\"{id}\"><thead><tr><th>{group}</th><th>cases</th><th>metric</th>");
        foreach (var model in models)
            html.Append($"<th>{E(model)}</th>");
        html.Append("</tr></thead><tbody>\n");
        foreach (var tag in byTag.GroupBy(t => t.Tag))
        {
            var means = MetricCatalog.All.Where(d => d.Kind == MetricKind.CaseMean && tag.Any(t => t.Metrics.ContainsKey(d.Name)));
            foreach (var metric in means)
            {
                html.Append($"<tr><td>{E(tag.Key)}</td><td class=\"num\">{tag.First().Cases}</td><th>{E(metric.Name)}</th>");
                foreach (var model in models)
                    html.Append(ValueCell(tag.FirstOrDefault(t => t.Model == model)?.Metrics.GetValueOrDefault(metric.Name)));
                html.Append("</tr>\n");
            }
        }
        html.Append("</tbody></table>\n");
    }

    static void AppendContamination(StringBuilder html, EvaluationReport report)
    {
        if (report.Contamination is not { } contamination)
            return;
        html.Append($"<h2>Contamination</h2>\n<p id=\"contamination\">{E(ContaminationSection.Summary(contamination))}</p>\n");
        html.Append($"<p id=\"clean-cases\">Clean cases: {E(string.Join(", ", ContaminationSection.CleanCases(report)))}</p>\n");
        if (contamination.Matches.Count > 0)
        {
            html.Append("<table id=\"contaminated-cases\"><thead><tr><th>case</th><th>kind</th><th>similarity</th><th>training line</th></tr></thead><tbody>\n");
            foreach (var match in contamination.Matches)
                html.Append($"<tr><td>{E(match.Id)}</td><td>{(match.Dialogue ? "dialogue" : "suite case")}</td><td class=\"num\">{ReportFormat.Number(match.Similarity)}</td><td class=\"num\">{match.TrainLine}</td></tr>\n");
            html.Append("</tbody></table>\n");
        }
        AppendSummaries(html, "Clean and contaminated cases", "contamination-subsets", "subset", contamination.Subsets);
    }

    static void AppendTraining(StringBuilder html, TrainingCurve? training)
    {
        if (training is null)
            return;
        html.Append($"<h2>Training</h2>\n<p>Loss curves from {E(training.Source)} ({training.Points.Count} points).</p>\n");
        html.Append(LossChart.Render(training) ?? "<p>No finite loss values to draw.</p>");
        html.Append('\n');
    }

    static void AppendWorstCases(StringBuilder html, EvaluationReport report)
    {
        if (report.WorstCaseIds.Count == 0)
            return;
        html.Append($"<h2>Worst cases for {E(report.Candidate)}</h2>\n<table id=\"worst-cases\"><thead><tr><th>case</th><th>question</th><th>references</th>");
        var answering = report.Cases[0].Answers.Select(a => a.Model).ToList();
        foreach (var model in answering)
            html.Append($"<th>{E(model)}</th>");
        html.Append("</tr></thead><tbody>\n");
        foreach (var id in report.WorstCaseIds)
        {
            var item = report.Cases.First(c => c.Id == id);
            html.Append($"<tr><td>{E(item.Id)}</td><td><pre>{E(item.Question)}</pre></td><td>");
            html.Append(string.Join("", item.References.Select(r => $"<pre>{E(r)}</pre>")));
            html.Append("</td>");
            foreach (var answer in item.Answers)
            {
                html.Append($"<td><pre>{E(answer.Answer)}</pre>");
                if (answer.Scores is { } scores)
                    html.Append($"<span class=\"ci\">EM {ReportFormat.Number(scores.ExactMatch)} F1 {ReportFormat.Number(scores.F1)} ROUGE-L {ReportFormat.Number(scores.RougeL)}</span>");
                foreach (var failed in answer.Checks.Where(c => !c.Passed))
                    html.Append($"<br><span class=\"worse\">{E(failed.Kind)} “{E(failed.Expectation)}”: {E(failed.Detail)}</span>");
                html.Append("</td>");
            }
            html.Append("</tr>\n");
        }
        html.Append("</tbody></table>\n");
    }

    static void AppendDialogues(StringBuilder html, IReadOnlyList<DialogueTranscript> dialogues)
    {
        if (dialogues.Count == 0)
            return;
        html.Append("<h2>Sample dialogues</h2>\n<section id=\"dialogues\">");
        foreach (var dialogue in dialogues)
        {
            html.Append($"<h3>{E(dialogue.Id)} · {E(dialogue.Model)}</h3>");
            foreach (var message in dialogue.Messages)
                html.Append($"<div class=\"turn {E(message.Role)}\"><b>{E(message.Role)}</b><pre>{E(message.Content)}</pre></div>");
        }
        html.Append("</section>\n");
    }

    static void AppendSettings(StringBuilder html, IReadOnlyDictionary<string, string> settings)
    {
        html.Append("<h2>Settings</h2>\n<table id=\"settings\"><tbody>");
        foreach (var (key, value) in settings.OrderBy(s => s.Key, StringComparer.Ordinal))
            html.Append($"<tr><th>{E(key)}</th><td>{E(value)}</td></tr>");
        html.Append("</tbody></table>\n");
    }

    static string ValueCell(MetricValue? value) => value is null
        ? "<td class=\"num\">–</td>"
        : $"<td class=\"num\">{ReportFormat.Number(value.Value)} <span class=\"ci\">{ReportFormat.Interval(value)} n={value.N}</span></td>";

    static string E(string text) => WebUtility.HtmlEncode(text);
}
