using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ServerlessTune.Core;
using ServerlessTune.Core.Evaluation;

namespace ServerlessTune.Cli.Commands;

/// <summary>
/// `stune eval score` (answer metrics of a predictions file against references) and `stune eval report`
/// (a full report with intervals, deltas and the gate from answers that other systems produced).
/// </summary>
internal static class EvalCommands
{
    public static Command Create() => new("eval", "Evaluate models: score answers, compare models, apply the quality gate.") { CreateScore(), CreateReport() };

    static Command CreateScore()
    {
        var predictions = new Option<string>("--predictions") { Description = "JSONL of {\"id\",\"prediction\"}.", Required = true };
        var references = new Option<string>("--references") { Description = "JSONL of {\"id\",\"references\":[...]}.", Required = true };
        var json = new Option<bool>("--json") { Description = "Print one JSON document." };
        var command = new Command("score", "Exact match, token F1 (SQuAD normalisation) and ROUGE-L F1, each the best over the references, averaged.")
        {
            predictions, references, json,
        };
        command.SetAction(parse =>
        {
            var summary = PredictionScorer.Score(parse.GetValue(predictions)!, parse.GetValue(references)!);
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(new { exact_match = summary.ExactMatch, f1 = summary.F1, rouge_l = summary.RougeL, count = summary.Count }));
                return 0;
            }
            Console.Out.WriteLine($"exact_match {Format(summary.ExactMatch)}");
            Console.Out.WriteLine($"f1 {Format(summary.F1)}");
            Console.Out.WriteLine($"rouge_l {Format(summary.RougeL)}");
            Console.Out.WriteLine($"count {summary.Count}");
            return 0;
        });
        return command;
    }

    static Command CreateReport()
    {
        var suite = new Option<string>("--suite") { Description = "Suite file (JSON array or JSONL of cases).", Required = true };
        var predictions = new Option<string[]>("--predictions")
        {
            Description = "NAME=FILE: one model's answers as {\"id\",\"prediction\"} JSONL; repeat for each model.",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var candidate = new Option<string>("--candidate") { Description = "The model being judged.", DefaultValueFactory = _ => QualityGateConfig.DefaultModel };
        var gate = new Option<string?>("--gate") { Description = "Quality gate configuration (JSON)." };
        var trainingMetrics = new Option<string?>("--training-metrics") { Description = "A trainer's metrics.jsonl, for the loss curves." };
        var output = new Option<string>("--out") { Description = "Folder for report.json, report.md and report.html.", Required = true };
        var runId = new Option<string>("--run-id") { Description = "Run id shown in the report.", DefaultValueFactory = _ => "local" };
        var seed = new Option<int>("--seed") { Description = "Bootstrap seed.", DefaultValueFactory = _ => 0 };
        var resamples = new Option<int>("--resamples") { Description = "Bootstrap resamples.", DefaultValueFactory = _ => Bootstrap.DefaultResamples };
        var json = new Option<bool>("--json") { Description = "Print report.json instead of the Markdown summary." };
        var command = new Command("report", "Compare models on a suite from their answers, apply the gate, and write the report.")
        {
            suite, predictions, candidate, gate, trainingMetrics, output, runId, seed, resamples, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(resamples) <= 0)
                throw new UserInputException($"--resamples: must be positive, got {parse.GetValue(resamples)}");
            var loaded = EvalSuite.Load(parse.GetValue(suite)!);
            var models = parse.GetValue(predictions)!.Select(spec =>
            {
                var (name, path) = ParseNamedFile(spec);
                return new ModelOutputs(name, path, Answers: AnswerFiles.ReadForSuite(path, loaded));
            }).ToList();
            var duplicate = models.GroupBy(m => m.Name).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null)
                throw new UserInputException($"--predictions: the name '{duplicate.Key}' is given twice");
            var candidateName = parse.GetValue(candidate)!;
            if (models.All(m => m.Name != candidateName))
                throw new UserInputException($"--candidate: no --predictions named '{candidateName}' (given: {string.Join(", ", models.Select(m => m.Name))})");

            var options = new EvaluationOptions { Seed = parse.GetValue(seed), Resamples = parse.GetValue(resamples) };
            var report = new EvaluationService(options).Evaluate(
                parse.GetValue(runId)!, loaded, models, candidateName,
                parse.GetValue(gate) is { } gatePath ? QualityGateConfig.Load(gatePath) : null,
                parse.GetValue(trainingMetrics) is { } metricsPath ? TrainingCurve.Load(metricsPath) : null);
            var folder = parse.GetValue(output)!;
            await ReportWriter.WriteToDirectoryAsync(report, folder, cancellationToken);
            Console.Error.WriteLine($"wrote {Path.Combine(folder, ReportWriter.HtmlName)}");
            Console.Out.Write(parse.GetValue(json) ? ReportJson.Serialize(report) + "\n" : MarkdownReport.Render(report));
            return 0;
        });
        return command;
    }

    static (string Name, string Path) ParseNamedFile(string spec)
    {
        var equals = spec.IndexOf('=');
        if (equals <= 0 || equals == spec.Length - 1)
            throw new UserInputException($"--predictions '{spec}': expected NAME=FILE, e.g. candidate=answers.jsonl");
        return (spec[..equals], spec[(equals + 1)..]);
    }

    static string Format(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);
}
