using System.Text;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Evaluation;

/// <summary>Writes report.json, report.md and report.html to reports/{runId}/ in a store, or to a folder.</summary>
public static class ReportWriter
{
    static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public static IReadOnlyList<(string Name, string Content)> Render(EvaluationReport report) =>
    [
        (ReportPaths.JsonFile, ReportJson.Serialize(report)),
        (ReportPaths.MarkdownFile, MarkdownReport.Render(report)),
        (ReportPaths.HtmlFile, HtmlReport.Render(report)),
    ];

    public static async Task WriteAsync(EvaluationReport report, IArtifactStore store, CancellationToken cancellationToken = default)
    {
        var folder = ArtifactLayout.Report(report.RunId);
        foreach (var (name, content) in Render(report))
            await store.WriteAllTextAsync(folder.File(name), content, cancellationToken);
    }

    public static void WriteToDirectory(EvaluationReport report, string directory)
    {
        Directory.CreateDirectory(directory);
        foreach (var (name, content) in Render(report))
            AtomicFile.Write(Path.Combine(directory, name), Utf8.GetBytes(content));
    }
}
