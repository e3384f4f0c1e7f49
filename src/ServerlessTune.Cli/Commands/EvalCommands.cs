using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ServerlessTune.Core;
using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Generation;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.PipelineConfig;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Cli.Commands;

/// <summary>
/// `stune eval` (run base, candidate and production on the validation split, a suite and dialogues, apply the
/// gate, write the report), `stune eval score` (answer metrics of a predictions file against references) and
/// `stune eval report` (a full report with intervals, deltas and the gate from answers that other systems produced).
/// </summary>
internal static class EvalCommands
{
    public static Command Create()
    {
        var command = new Command("eval", "Evaluate a fine-tuned model against its base and production, apply the quality gate, write the report.")
        {
            CreateScore(), CreateReport(),
        };
        new RunFlags().AddTo(command);
        return command;
    }

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
        var candidate = new Option<string>("--candidate") { Description = "The model being judged.", DefaultValueFactory = _ => GateOptions.DefaultModel };
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
        command.SetAction(parse =>
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
                parse.GetValue(gate) is { } gatePath ? GateOptions.Load(gatePath) : null,
                parse.GetValue(trainingMetrics) is { } metricsPath ? TrainingCurve.Load(metricsPath) : null);
            var folder = parse.GetValue(output)!;
            ReportWriter.WriteToDirectory(report, folder);
            Console.Error.WriteLine($"wrote {Path.Combine(folder, ReportPaths.HtmlFile)}");
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

    /// <summary>The flags of `stune eval` itself: which models, on what, decoded how.</summary>
    sealed class RunFlags
    {
        readonly Option<string> model = new("--model") { Description = "Model folder: the base when --adapter is given, else the candidate (e.g. a merged folder).", Required = true };
        readonly Option<string?> adapter = new("--adapter") { Description = "LoRA adapter folder (PEFT layout): the candidate is --model plus this adapter." };
        readonly Option<string?> baseModel = new("--base") { Description = "Base model folder to compare with when --model is already the candidate." };
        readonly Option<string> data = new("--data") { Description = "Prepared-data folder holding validation.jsonl (and train.jsonl, to find suite questions that were trained on).", Required = true };
        readonly Option<string?> suite = new("--suite") { Description = "Suite file (JSON array or JSONL of cases); default: derived from validation.jsonl." };
        readonly Option<int?> maxCases = new("--max-cases") { Description = "Use only the first N cases of a suite derived from validation.jsonl." };
        readonly Option<string?> production = new("--production") { Description = "The model in production (folder), evaluated the same way." };
        readonly Option<string?> gate = new("--gate") { Description = "Quality gate configuration (JSON); default: candidate perplexity <= base perplexity." };
        readonly Option<string?> dialogues = new("--dialogues") { Description = "Scripted dialogues (JSON array or JSONL of {\"id\",\"system\",\"turns\":[...]})." };
        readonly Option<string?> trainingMetrics = new("--training-metrics") { Description = "The trainer's metrics.jsonl, for the loss curves." };
        readonly Option<string> output = new("--out") { Description = "Folder for report.json, report.md and report.html.", Required = true };
        readonly Option<string> runId = new("--run-id") { Description = "Run id shown in the report.", DefaultValueFactory = _ => "local" };
        readonly Option<string?> template = new("--chat-template") { Description = "Override the chat template (chatml, llama2, llama3, phi3, zephyr, plain)." };
        readonly Option<int> batchSize = new("--batch-size") { Description = "Conversations per forward pass and prompts per generation batch.", DefaultValueFactory = _ => 8 };
        // --seed is the sampling seed and also seeds the bootstrap intervals.
        readonly DecodingFlags decoding = new(defaultMaxNewTokens: 64);
        readonly Option<int> resamples = new("--resamples") { Description = "Bootstrap resamples.", DefaultValueFactory = _ => Bootstrap.DefaultResamples };
        readonly Option<bool> json = new("--json") { Description = "Print one JSON document: the gate and every model's figures." };
        // As the pipeline's Evaluate step measures the candidate in deploy.format: the weights it would be served with.
        readonly FormatFlag format = new("Weight format of the candidate while measured: fp32 (default), bf16 or int8, as it would be served.");

        public void AddTo(Command command)
        {
            foreach (var option in new Option[]
                     {
                         model, adapter, baseModel, data, suite, maxCases, production, gate, dialogues, trainingMetrics, output, runId, template,
                         batchSize, resamples, json, format.Option,
                     })
                command.Options.Add(option);
            decoding.AddTo(command);
            command.SetAction((parse, cancellationToken) => RunAsync(parse, cancellationToken));
        }

        async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
        {
            var modelDir = parse.GetValue(model)!;
            var dataDir = parse.GetValue(data)!;
            var folder = parse.GetValue(output)!;
            if (parse.GetValue(resamples) <= 0)
                throw new UserInputException($"--resamples: must be positive, got {parse.GetValue(resamples)}");
            foreach (var (flag, dir) in new[] { ("--model", modelDir), ("--adapter", parse.GetValue(adapter)), ("--base", parse.GetValue(baseModel)), ("--production", parse.GetValue(production)), ("--data", dataDir) })
                if (dir is not null && !Directory.Exists(dir))
                    throw new UserInputException($"{flag} {dir}: folder not found");
            if (parse.GetValue(adapter) is not null && parse.GetValue(baseModel) is not null)
                throw new UserInputException("--base: with --adapter the base is --model; give one of --adapter or --base");

            var plan = new EvaluationPlan
            {
                ValidationFile = Path.Combine(dataDir, PreparedPaths.ValidationFile),
                TrainFile = File.Exists(Path.Combine(dataDir, PreparedPaths.TrainFile)) ? Path.Combine(dataDir, PreparedPaths.TrainFile) : null,
                SuiteFile = parse.GetValue(suite),
                DialoguesFile = parse.GetValue(dialogues),
                MaxDerivedCases = parse.GetValue(maxCases),
                BatchSize = parse.GetValue(batchSize),
                ChatTemplate = parse.GetValue(template),
                Decoding = decoding.Options(parse),
            };
            plan.Validate();
            var gateConfig = parse.GetValue(gate) is { } gatePath ? GateOptions.Load(gatePath) : PipelineOptions.DefaultGate;
            var training = parse.GetValue(trainingMetrics) is { } metricsPath ? TrainingCurve.Load(metricsPath) : null;

            var evaluator = new ModelEvaluator(plan, Console.Error.WriteLine);
            var outputs = new List<FamilyOutput>();
            foreach (var evaluated in Models(parse, modelDir))
                outputs.AddRange(await evaluator.RunAllAsync(evaluated, cancellationToken: cancellationToken));
            var options = new EvaluationOptions { Seed = unchecked((int)decoding.Seed(parse)), Resamples = parse.GetValue(resamples) };
            var report = plan.Report(parse.GetValue(runId)!, outputs, GateOptions.DefaultModel, options, gateConfig, training);
            ReportWriter.WriteToDirectory(report, folder);
            Console.Error.WriteLine($"wrote {Path.Combine(folder, ReportPaths.HtmlFile)}");
            if (report.Gate is { Passed: false })
                Console.Error.WriteLine("the gate failed; the evaluation itself succeeded, so the exit code is 0");
            Console.Out.Write(parse.GetValue(json) ? Summary(report, folder) + "\n" : MarkdownReport.Render(report));
            return 0;
        }

        IEnumerable<EvaluatedModel> Models(ParseResult parse, string modelDir)
        {
            var adapterDir = parse.GetValue(adapter);
            var baseDir = adapterDir is null ? parse.GetValue(baseModel) : modelDir;
            if (baseDir is not null)
                yield return new EvaluatedModel("base", baseDir);
            yield return new EvaluatedModel(GateOptions.DefaultModel, modelDir, adapterDir, Format: format.Value(parse) ?? WeightFormat.Fp32);
            if (parse.GetValue(production) is { } productionDir)
                yield return new EvaluatedModel("production", productionDir);
        }
    }

    /// <summary>The gate and each model's figures: what a script acting on the evaluation needs.</summary>
    static string Summary(EvaluationReport report, string folder) => JsonSerializer.Serialize(new
    {
        report = folder,
        candidate = report.Candidate,
        gate = report.Gate is not { } gate ? null : new
        {
            passed = gate.Passed,
            mode = gate.Mode.ToString().ToLowerInvariant(),
            summary = gate.Summary(),
            failed = gate.Rules.Where(r => r.Status == RuleStatus.Failed).Select(r => r.Message).ToList(),
        },
        models = report.Models.Select(m => new { name = m.Name, source = m.Source, metrics = m.Metrics.ToDictionary(kv => kv.Key, kv => kv.Value.Value) }).ToList(),
    }, ReportJson.Options);
}
