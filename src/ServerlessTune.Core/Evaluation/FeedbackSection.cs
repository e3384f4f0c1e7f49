using System.Net;
using System.Text;

namespace ServerlessTune.Core.Evaluation;

/// <summary>
/// The feedback part of report.md and report.html: the served answers users rejected, what each model answers now and the
/// verdict; the corrected cases apart, since their corrections were trained on.
/// </summary>
public static class FeedbackSection
{
    public static string Summary(FeedbackReport feedback) => feedback.Cases.Count == 0
        ? $"No feedback cases: no served answer was rated down or corrected in the logs this run read ({feedback.Source})."
        : $"{feedback.Rejected} rated-down answers without a correction (never trained on; feedback_fixed: the answer is not empty, not a refusal "
          + $"and not a near-duplicate of the rejected one at MinHash similarity {ReportFormat.Number(feedback.Threshold)}) and {feedback.Corrected} "
          + "corrected answers (the corrections are in the training data: feedback_corrected_f1 measures learning them).";

    public static void Markdown(StringBuilder md, FeedbackReport feedback, Func<string, string> escape)
    {
        md.AppendLine();
        md.AppendLine("### Feedback cases");
        md.AppendLine();
        md.AppendLine(escape(Summary(feedback)));
        foreach (var (title, corrected) in new[] { ("Rated down", false), ("Corrected (trained on)", true) })
        {
            var cases = feedback.Cases.Where(c => (c.Correction is not null) == corrected).ToList();
            if (cases.Count == 0) continue;
            md.AppendLine();
            md.AppendLine($"{title}:");
            foreach (var c in cases)
            {
                md.AppendLine($"- {escape(ReportFormat.Truncate(c.Question, 100))}: rejected {escape(Quote(c.RejectedAnswer))}"
                    + (c.Correction is { } correction ? $", correction {escape(Quote(correction))}" : ""));
                foreach (var answer in c.Answers)
                    md.AppendLine($"  - {escape(answer.Model)}: {escape(Quote(answer.Answer))}: {escape(answer.Verdict)}");
            }
        }
    }

    public static void Html(StringBuilder html, FeedbackReport feedback)
    {
        html.Append($"<h2>Feedback cases</h2>\n<p id=\"feedback\">{E(Summary(feedback))}</p>\n");
        foreach (var (title, id, corrected) in new[] { ("Rated down", "feedback-fixed", false), ("Corrected (trained on)", "feedback-corrected", true) })
        {
            var cases = feedback.Cases.Where(c => (c.Correction is not null) == corrected).ToList();
            if (cases.Count == 0) continue;
            var models = cases[0].Answers.Select(a => a.Model).ToList();
            html.Append($"<h3>{title}</h3>\n<table id=\"{id}\"><thead><tr><th>prompt</th><th>rejected answer</th>");
            if (corrected) html.Append("<th>correction</th>");
            foreach (var model in models) html.Append($"<th>{E(model)}</th>");
            html.Append("</tr></thead><tbody>\n");
            foreach (var c in cases)
            {
                html.Append($"<tr><td><pre>{E(c.Question)}</pre><span class=\"ci\">{E(c.Version)}</span></td><td><pre>{E(c.RejectedAnswer)}</pre>");
                if (c.Comment is { } comment) html.Append($"<span class=\"ci\">comment: {E(comment)}</span>");
                html.Append("</td>");
                if (corrected) html.Append($"<td><pre>{E(c.Correction!)}</pre></td>");
                foreach (var answer in c.Answers)
                {
                    string verdict = answer.Fixed switch { true => "better", false => "worse", null => "ci" };
                    html.Append($"<td><pre>{E(answer.Answer)}</pre><span class=\"{verdict}\">{E(answer.Verdict)}</span></td>");
                }
                html.Append("</tr>\n");
            }
            html.Append("</tbody></table>\n");
        }
    }

    static string Quote(string text) => $"\"{ReportFormat.Truncate(text, 80)}\"";

    static string E(string text) => WebUtility.HtmlEncode(text);
}
