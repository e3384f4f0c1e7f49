using System.Text;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Core.Evaluation;

/// <summary>Writes report.json, report.md and report.html to reports/{runId}/ in a store, or to a folder.</summary>
public static class ReportWriter
{
    public const string JsonName = "report.json";
    public const string MarkdownName = "report.md";
    public const string HtmlName = "report.html";

    static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public static string Folder(string runId) => $"reports/{runId}/";

    public static IReadOnlyList<(string Name, string Content)> Render(EvaluationReport report) =>
    [
        (JsonName, ReportJson.Serialize(report)),
        (MarkdownName, MarkdownReport.Render(report)),
        (HtmlName, HtmlReport.Render(report)),
    ];

    public static async Task WriteAsync(EvaluationReport report, IArtifactStore store, CancellationToken cancellationToken = default)
    {
        foreach (var (name, content) in Render(report))
        {
            var bytes = Utf8.GetBytes(content);
            await store.WriteAsync(Folder(report.RunId) + name, (stream, ct) => stream.WriteAsync(bytes, ct).AsTask(), cancellationToken);
        }
    }

    /// <summary>Each file is written under a temporary name and renamed, so a reader never sees half a report file.</summary>
    public static async Task WriteToDirectoryAsync(EvaluationReport report, string directory, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(directory);
        foreach (var (name, content) in Render(report))
        {
            var target = Path.Combine(directory, name);
            var temporary = target + ".tmp";
            await File.WriteAllTextAsync(temporary, content, Utf8, cancellationToken);
            File.Move(temporary, target, overwrite: true);
        }
    }
}
