using System.Text;
using System.Text.RegularExpressions;

namespace ServerlessTune.Core.Evaluation;

/// <summary>report.md: the short summary a pull request or chat message carries (gate, metric table, worst cases).</summary>
public static partial class MarkdownReport
{
    const int MaxWorstCases = 5;

    public static string Render(EvaluationReport report)
    {
        var references = ReportFormat.References(report).ToList();
        var md = new StringBuilder();
        md.AppendLine($"## Evaluation of run {Escape(report.RunId)}: {Escape(report.Candidate)}"
            + (references.Count > 0 ? $" vs {string.Join(", ", references.Select(Escape))}" : ""));
        md.AppendLine();
        if (report.Gate is { } gate)
        {
            md.AppendLine($"**{(gate.Passed ? "✅" : "❌")} {Escape(gate.Summary())}**");
            foreach (var rule in gate.Rules.Where(r => r.Status != RuleStatus.Passed))
                md.AppendLine($"- {Escape(rule.Message)}");
            md.AppendLine();
        }

        md.Append("| metric | n |");
        foreach (var model in report.Models)
            md.Append($" {Escape(model.Name)} |");
        foreach (var reference in references)
            md.Append($" Δ vs {Escape(reference)} |");
        md.AppendLine();
        md.AppendLine("|---|---:|" + string.Concat(Enumerable.Repeat("---:|", report.Models.Count + references.Count)));
        foreach (var metric in ReportFormat.PresentMetrics(report))
        {
            var candidateValue = report.Models.First(m => m.Name == report.Candidate).Metrics.GetValueOrDefault(metric.Name);
            md.Append($"| {metric.Name} | {candidateValue?.N.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? ""} |");
            foreach (var model in report.Models)
                md.Append(model.Metrics.TryGetValue(metric.Name, out var value) ? Cell(ReportFormat.Number(value.Value), ReportFormat.Interval(value)) : " |");
            foreach (var reference in references)
            {
                var delta = ReportFormat.FindDelta(report, metric.Name, reference);
                md.Append(delta is null ? " |" : Cell(Mark(delta) + ReportFormat.Signed(delta.Delta), ReportFormat.WinsLossesTies(delta)));
            }
            md.AppendLine();
        }

        if (report.Contamination is not null)
            ContaminationSection.Markdown(md, report, Escape);
        if (report.Feedback is { } feedback)
            FeedbackSection.Markdown(md, feedback, Escape);

        var worst = report.WorstCaseIds.Take(MaxWorstCases).ToList();
        if (worst.Count > 0)
        {
            md.AppendLine();
            md.AppendLine($"Worst cases for {Escape(report.Candidate)}:");
            foreach (var id in worst)
            {
                var item = report.Cases.First(c => c.Id == id);
                var answer = item.Answers.First(a => a.Model == report.Candidate);
                var problems = new List<string>();
                if (answer.Scores is { } scores)
                    problems.Add($"F1 {ReportFormat.Number(scores.F1)}");
                problems.AddRange(answer.Checks.Where(c => !c.Passed).Select(c => $"{c.Kind} \"{c.Expectation}\" {c.Detail}"));
                md.AppendLine($"- `{Code(id)}` {Escape(ReportFormat.Truncate(item.Question, 100))} ({Escape(string.Join("; ", problems))})");
            }
        }
        return md.ToString();
    }

    static string Mark(MetricDelta delta) => delta.Improved switch { true => "▲ ", false => "▼ ", null => "" };

    static string Cell(params string[] parts) => " " + string.Join(' ', parts.Where(p => p.Length > 0)) + " |";

    // Inline text never starts a line here, so only the characters that act mid-line need escaping.
    [GeneratedRegex(@"[\\`*_\[\]<>&|~]")]
    private static partial Regex Special();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    // User text must not become links, images, HTML or table cells in a rendered comment: one line, every markup character escaped.
    static string Escape(string text) => Special().Replace(Whitespace().Replace(text, " "), m => "\\" + m.Value);

    static string Code(string text) => Whitespace().Replace(text, " ").Replace("`", "'");
}
