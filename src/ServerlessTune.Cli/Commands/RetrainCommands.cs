using System.CommandLine;
using System.Text.Json;
using ServerlessTune.Core.Storage;
using ServerlessTune.Workflow;
using ServerlessTune.Workflow.Api;
using ServerlessTune.Workflow.Runner;

namespace ServerlessTune.Cli.Commands;

/// <summary>
/// `stune retrain`: for each project of the store whose pipeline.json sets feedback.retrain_after and that has at least that
/// many conversations rated since its last run read the logs, runs the pipeline as `stune run` would on the project's stored
/// dataset folder and pipeline.json (the check is <see cref="RetrainService"/>'s, shared with the timer function). stdout: one
/// line per project (due or not, and why), each due project's run result, and "nothing to retrain" when none was due.
/// Exit code: 0 when every run deployed (or none was due), 3 when a gate refused a model, 1 when a run failed, 130 when stopped.
/// </summary>
internal static class RetrainCommands
{
    const int StoppedExitCode = 130;

    public static Command Create()
    {
        var store = new Option<string?>("--store") { Description = "Local folder for all artifacts (default: ./.stune)." };
        var connection = new Option<string?>("--connection") { Description = "Storage connection string: artifacts in a blob container, run state in a Durable Task hub of the same account; default: $STUNE_STORAGE_CONNECTION." };
        var container = new Option<string>("--container") { Description = "Blob container (and task hub name) with --connection.", DefaultValueFactory = _ => RunStore.DefaultContainer };
        var project = new Option<string?>("--project") { Description = "Check this project only (default: every project with a dataset folder in the store)." };
        var json = new Option<bool>("--json") { Description = "Print every project's check and run as one JSON document." };
        var command = new Command("retrain", "Run the pipeline for each project with enough new rated conversations (pipeline.json feedback.retrain_after).")
        {
            store, connection, container, project, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            var target = await RunStore.OpenAsync(parse.GetValue(store), parse.GetValue(connection), parse.GetValue(container)!, ct);
            bool stopped = false;
            var outcomes = await new RetrainService(target.Artifacts).StartDueAsync(async (check, token) =>
            {
                if (stopped) return null;
                Console.Error.WriteLine($"{check.Project}: retraining: {check.Reason}");
                var record = new RunRecord(RunIds.New(DateTimeOffset.UtcNow), "", RunCommands.InputFor(check.Project, check.Options!, check.OptionsSource));
                await record.WriteAsync(target.Artifacts, token);
                var result = await RunCommands.ExecuteAsync(target, record, token);
                stopped = result is null;
                return result;
            }, parse.GetValue(project), ct);

            Console.Out.Write(parse.GetValue(json)
                ? JsonSerializer.Serialize(outcomes.Select(Summary), RunCommands.Indented) + "\n"
                : Text(outcomes, target.Artifacts));
            var codes = outcomes.Select(o => o.Run).OfType<PipelineRunResult>().Select(RunCommands.ExitCode).ToList();
            // A failed run outweighs a refused gate, which outweighs a deployment.
            return stopped ? StoppedExitCode : codes.Contains(1) ? 1 : codes.FirstOrDefault(code => code != 0);
        });
        return command;
    }

    static object Summary(RetrainOutcome<PipelineRunResult?> o) => new
    {
        project = o.Check.Project,
        retrainAfter = o.Check.Threshold,
        newRatings = o.Check.NewRatings,
        cutoff = o.Check.Cutoff,
        due = o.Check.Due,
        reason = o.Check.Reason,
        run = o.Run is null ? null : RunCommands.Summary(o.Run),
    };

    static string Text(IReadOnlyList<RetrainOutcome<PipelineRunResult?>> outcomes, IArtifactStore store)
    {
        var lines = new List<string>();
        if (outcomes.Count == 0) lines.Add($"no project has a dataset folder in {store.Location}");
        foreach (var (check, run) in outcomes)
        {
            lines.Add($"{check.Project}: {(check.Due ? "due" : "not due")}: {check.Reason}");
            if (run is not null) lines.AddRange(RunCommands.Text(run).Split(Environment.NewLine).Select(line => "  " + line));
        }
        if (outcomes.All(o => !o.Check.Due)) lines.Add("nothing to retrain");
        return string.Join(Environment.NewLine, lines) + Environment.NewLine;
    }
}
