using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ServerlessTune.Azure.Storage;
using ServerlessTune.Core;
using ServerlessTune.Core.Feedback;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Cli.Commands;

/// <summary>
/// `stune monitor`: how each served version does in use, per day, from the conversation and feedback logs (the same
/// JSON as the server's GET /api/projects/{project}/metrics, and the dashboard page with --html).
/// </summary>
internal static class MonitorCommands
{
    public static Command Create()
    {
        var project = new Option<string?>("--project") { Description = "One project (default: every project with a conversation log)." };
        var since = new Option<string?>("--since") { Description = "First UTC day to include, yyyy-mm-dd (default: all kept days)." };
        var json = new Option<bool>("--json") { Description = "Print the figures as one JSON document." };
        var html = new Option<FileInfo?>("--html") { Description = "Also write the self-contained dashboard page to this file (one project)." };
        var store = new Option<string?>("--store") { Description = "Local folder store (default: ./.stune)." };
        var connection = new Option<string?>("--connection") { Description = "Blob storage connection string (default: $STUNE_STORAGE)." };
        var container = new Option<string>("--container") { Description = "Blob container with --connection.", DefaultValueFactory = _ => "stune" };
        var command = new Command("monitor", "Requests, errors, latency, tokens and ratings per served version and day.")
        {
            project, since, json, html, store, connection, container,
        };
        command.SetAction(async (parse, ct) =>
        {
            DateOnly? from = null;
            if (parse.GetValue(since) is { } text)
            {
                if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
                {
                    Console.Error.WriteLine($"usage: --since {text}: not a yyyy-mm-dd date");
                    return 2;
                }
                from = day;
            }
            string? connectionString = parse.GetValue(connection) ?? Environment.GetEnvironmentVariable("STUNE_STORAGE");
            IArtifactStore artifacts = connectionString is null
                ? new LocalFolderStore(parse.GetValue(store) ?? ".stune")
                : await BlobArtifactStore.ConnectAsync(connectionString, parse.GetValue(container)!, ct);
            var projects = parse.GetValue(project) is { } one
                ? [ArtifactPath.ValidateName(one, "project")]
                : await DailyLogReader.ProjectsAsync(artifacts, ArtifactLayout.ConversationLogs, ct);
            if (parse.GetValue(html) is { } page && projects.Count != 1)
            {
                Console.Error.WriteLine($"usage: --html draws one project; give --project ({projects.Count} have logs)");
                return 2;
            }
            var reports = new List<UsageReport>();
            foreach (var name in projects) reports.Add(await UsageMetrics.ReadAsync(artifacts, name, from, ct));
            if (parse.GetValue(html) is { } file)
            {
                AtomicFile.Write(file.FullName, Encoding.UTF8.GetBytes(UsageDashboard.Render(reports[0])));
                Console.Error.WriteLine($"dashboard: {file.FullName}");
            }
            Console.Out.Write(parse.GetValue(json)
                ? JsonSerializer.Serialize<object>(parse.GetValue(project) is null ? reports : reports[0], Indented) + "\n"
                : Text(reports));
            return 0;
        });
        return command;
    }

    static readonly JsonSerializerOptions Indented = new(LogJson.Options) { WriteIndented = true };

    static string Text(IReadOnlyList<UsageReport> reports)
    {
        var text = new StringBuilder();
        foreach (var report in reports)
        {
            text.AppendLine($"{report.Project}:");
            if (report.Days.Count == 0) text.AppendLine("  nothing served");
            foreach (var d in report.Days)
            {
                string errors = d.Errors.Count == 0 ? "0" : string.Join(",", d.Errors.Select(e => $"{e.Key}={e.Value}"));
                string latency = d.LatencyMs is { } l ? $"{l.P50:0}/{l.P95:0}" : "-";
                string ttft = d.TtftMs is { } t ? $"{t.P50:0}/{t.P95:0}" : "-";
                string up = d.ThumbsUpRate is { } r ? $"{r:0.##} [{d.ThumbsUpInterval![0]:0.##},{d.ThumbsUpInterval[1]:0.##}] n={d.Rated}" : "-";
                text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {d.Day:yyyy-MM-dd} {d.Version}: requests {d.Requests}, errors {errors}, latency p50/p95 {latency} ms, ttft {ttft} ms, " +
                    $"tokens {d.PromptTokens}/{d.CompletionTokens}, thumbs up {up}, corrections {d.Corrections}, " +
                    $"refusals {d.RefusalRate?.ToString("0.##", CultureInfo.InvariantCulture) ?? "-"}, length stops {d.LengthStopRate?.ToString("0.##", CultureInfo.InvariantCulture) ?? "-"}"));
            }
        }
        return text.ToString();
    }
}
