using System.Text;

namespace ServerlessTune.Core.Evaluation;

/// <summary>The contamination part of report.md and report.html: how many questions were trained on, which, and the scores apart.</summary>
public static class ContaminationSection
{
    public static string Summary(ContaminationReport contamination) =>
        $"{contamination.ContaminatedCases} of {contamination.SuiteCases} suite cases and {contamination.ContaminatedDialogues} of {contamination.Dialogues} "
        + $"dialogues ask a question that is in the training data ({contamination.TrainTurns} user turns of {Path.GetFileName(contamination.TrainFile)}, "
        + $"near-duplicate at MinHash similarity {ReportFormat.Number(contamination.Threshold)}); scores on them measure memory, the clean cases measure the domain.";

    /// <summary>The suite cases whose question is not in the training data.</summary>
    public static IEnumerable<string> CleanCases(EvaluationReport report) =>
        report.Cases.Select(c => c.Id).Where(id => report.Contamination?.IsContaminated(id) == false);

    public static void Markdown(StringBuilder md, EvaluationReport report, Func<string, string> escape)
    {
        var contamination = report.Contamination!;
        md.AppendLine();
        md.AppendLine("### Contamination");
        md.AppendLine();
        md.AppendLine(escape(Summary(contamination)));
        md.AppendLine();
        var ids = contamination.Matches.Where(m => !m.Dialogue).Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
        var subsets = contamination.Subsets;
        if (subsets.Count > 0)
        {
            var models = subsets.Select(s => s.Model).Distinct().ToList();
            md.AppendLine("| subset | cases | metric |" + string.Concat(models.Select(m => $" {escape(m)} |")));
            md.AppendLine("|---|---:|---|" + string.Concat(models.Select(_ => "---:|")));
            foreach (var subset in subsets.GroupBy(s => s.Tag))
                foreach (var metric in MetricCatalog.All.Where(d => d.Kind == MetricKind.CaseMean && subset.Any(s => s.Metrics.ContainsKey(d.Name))))
                    md.AppendLine($"| {subset.Key} | {subset.First().Cases} | {metric.Name} |"
                        + string.Concat(models.Select(m => subset.FirstOrDefault(s => s.Model == m)?.Metrics.GetValueOrDefault(metric.Name) is { } v
                            ? $" {ReportFormat.Number(v.Value)} {ReportFormat.Interval(v)} |" : " |")));
            md.AppendLine();
        }
        static string Codes(IEnumerable<string> ids) => string.Join(", ", ids.Select(id => $"`{id.Replace("`", "'")}`"));
        if (ids.Count > 0) md.AppendLine($"- contaminated cases: {Codes(ids.Order(StringComparer.Ordinal))}");
        var clean = CleanCases(report).ToList();
        if (clean.Count > 0) md.AppendLine($"- clean cases: {Codes(clean)}");
        var dialogues = contamination.Matches.Where(m => m.Dialogue).Select(m => m.Id).ToList();
        if (dialogues.Count > 0) md.AppendLine($"- contaminated dialogues: {Codes(dialogues)}");
    }
}
