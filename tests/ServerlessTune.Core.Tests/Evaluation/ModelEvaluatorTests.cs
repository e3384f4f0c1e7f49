using System.Text.Json;
using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Generation;
using ServerlessTune.Core.Pipeline;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Tests.Training;
using ServerlessTune.Core.Training;

namespace ServerlessTune.Core.Tests.Evaluation;

public class ModelEvaluatorTests(TrainedLumoFixture lumo) : IClassFixture<TrainedLumoFixture>
{
    EvaluationPlan Plan(int batchSize = 8) => new()
    {
        ValidationFile = lumo.ValidationFile,
        SuiteFile = lumo.SuiteFile,
        DialoguesFile = lumo.DialoguesFile,
        BatchSize = batchSize,
        Decoding = new GenerationOptions { MaxNewTokens = 40 },
    };

    EvaluatedModel Base => new("base", lumo.BaseDirectory);

    EvaluatedModel Candidate(string adapter) => new(QualityGateConfig.DefaultModel, lumo.BaseDirectory, adapter);

    async Task<EvaluationReport> EvaluateAsync(string adapter)
    {
        var evaluator = new ModelEvaluator(Plan());
        var outputs = new List<FamilyOutput>();
        foreach (var model in new[] { Base, Candidate(adapter) })
            outputs.AddRange(await evaluator.RunAllAsync(model));
        return evaluator.Report("run-1", outputs, QualityGateConfig.DefaultModel, new EvaluationOptions { Seed = 4, Resamples = 200 },
            QualityGateConfig.Load(lumo.GateFile), TrainingCurve.Load(lumo.MetricsFile));
    }

    static double Metric(EvaluationReport report, string model, string metric) => report.Models.Single(m => m.Name == model).Metrics[metric].Value;

    [Fact]
    public async Task The_trained_candidate_beats_its_base_on_its_own_suite_and_passes_the_gate()
    {
        var report = await EvaluateAsync(lumo.AdapterDirectory);

        Assert.True(report.Gate!.Passed, string.Join("\n", report.Gate.Rules.Select(r => r.Message)));
        Assert.All(report.Gate.Rules, r => Assert.Equal(RuleStatus.Passed, r.Status));
        Assert.True(Metric(report, "candidate", "f1") > Metric(report, "base", "f1") + 0.3,
            $"f1 {Metric(report, "base", "f1")} -> {Metric(report, "candidate", "f1")}");
        Assert.True(Metric(report, "candidate", "perplexity") < 0.5 * Metric(report, "base", "perplexity"));
        Assert.True(Metric(report, "candidate", "top1_accuracy") > Metric(report, "base", "top1_accuracy"));
        Assert.Equal(LumoSupportData.Facts.Length, report.Models.Single(m => m.Name == "candidate").Metrics["f1"].N);
        var f1 = report.Deltas.Single(d => d.Metric == "f1" && d.Reference == "base");
        Assert.True(f1.Wins > f1.Losses, $"wins {f1.Wins}, losses {f1.Losses}");
        Assert.Equal("greedy", report.Settings["decoding"]);
        Assert.Equal(4, report.Dialogues.Count);
        Assert.NotEmpty(report.Training!.Points);

        var store = new LocalFolderStore(Path.Combine(lumo.Root, "store-" + Guid.NewGuid().ToString("N")[..6]));
        await ReportWriter.WriteAsync(report, store);
        var json = await store.ReadAllTextAsync("reports/run-1/report.json");
        Assert.Equal(report.Gate, ReportJson.Deserialize(json, "report.json").Gate);
    }

    [Fact]
    public async Task A_candidate_with_a_noise_adapter_fails_the_gate_with_readable_reasons()
    {
        var report = await EvaluateAsync(lumo.BrokenAdapterDirectory);

        Assert.False(report.Gate!.Passed);
        var failed = report.Gate.Rules.Where(r => r.Status == RuleStatus.Failed).ToList();
        var perplexity = Assert.Single(failed, r => r.Rule.Metric == "perplexity");
        Assert.Matches(@"^failed: candidate perplexity [\d.]+ is not <= [\d.]+ \(0\.9 x base perplexity, where base perplexity = [\d.]+\)$", perplexity.Message);
        Assert.True(perplexity.Actual > perplexity.Threshold);
        Assert.Contains(failed, r => r.Rule.Metric == "rouge_l");
        Assert.StartsWith("gate failed (enforce): ", report.Gate.Summary());
        Assert.Contains(perplexity.Message, MarkdownReport.Render(report));
    }

    [Fact]
    public async Task Greedy_evaluation_writes_the_same_report_json_twice()
    {
        var first = ReportJson.Serialize(await EvaluateAsync(lumo.AdapterDirectory));
        var second = ReportJson.Serialize(await EvaluateAsync(lumo.AdapterDirectory));
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task Fan_out_per_family_through_json_equals_one_call_per_model()
    {
        var evaluator = new ModelEvaluator(Plan());
        var whole = await evaluator.RunAllAsync(Candidate(lumo.AdapterDirectory));

        var outputs = new List<FamilyOutput>();
        foreach (var family in EvalSettings.AllFamilies)
        {
            var output = await evaluator.RunAsync(Candidate(lumo.AdapterDirectory), family);
            // What a Durable activity does with its result: serialise it, and the orchestrator reads it back.
            outputs.Add(JsonSerializer.Deserialize<FamilyOutput>(JsonSerializer.Serialize(output))!);
        }

        var merged = Assert.Single(FamilyOutput.Merge(outputs));
        var expected = Assert.Single(FamilyOutput.Merge(whole));
        Assert.Equal(expected.LanguageModel, merged.LanguageModel);
        Assert.Equal(expected.Answers, merged.Answers);
        Assert.Equal(expected.Dialogues!.SelectMany(d => d.Messages), merged.Dialogues!.SelectMany(d => d.Messages));
        Assert.Equal(lumo.BaseDirectory + " + adapter " + lumo.AdapterDirectory, merged.Source);
        var again = Assert.Throws<ArgumentException>(() => FamilyOutput.Merge([.. outputs, outputs[0]]));
        Assert.Contains("has the family 'language_model' more than once", again.Message);
    }

    [Fact]
    public void Suite_answers_are_generated_in_batches_and_equal_one_at_a_time_answers()
    {
        using var model = ChatModel.Load(lumo.BaseDirectory, lumo.AdapterDirectory);
        var suite = EvalSuite.Load(lumo.SuiteFile);
        var options = new GenerationOptions { MaxNewTokens = 40 };
        var batches = new List<int>();

        var batched = SuiteAnswerer.Answer(model, suite, options, batchSize: 10, (_, _, size) => batches.Add(size));
        var single = SuiteAnswerer.Answer(model, suite, options, batchSize: 1);

        Assert.Equal([10, 10, 4], batches);
        Assert.Equal(suite.Cases.Select(c => c.Id), batched.Keys);
        Assert.Equal(single, batched);
        // The trained adapter answers most questions word for word.
        var exact = suite.Cases.Count(c => batched[c.Id] == c.References[0]);
        Assert.True(exact >= 12, string.Join("\n", suite.Cases.Select(c => $"{c.References[0]} | {batched[c.Id]}")));
    }

    [Fact]
    public async Task Dialogues_keep_every_turn_and_answer_like_a_single_question()
    {
        using var model = ChatModel.Load(lumo.BaseDirectory, lumo.AdapterDirectory);
        var scripts = DialogueScript.Load(lumo.DialoguesFile);
        var options = new GenerationOptions { MaxNewTokens = 40 };

        var transcripts = await DialogueRunner.RunAsync(model, "candidate", scripts, options);

        Assert.Equal(["warranty-then-return", "no-system"], transcripts.Select(t => t.Id));
        var first = transcripts[0].Messages;
        Assert.Equal([ChatMessage.System, ChatMessage.User, ChatMessage.Assistant, ChatMessage.User, ChatMessage.Assistant], first.Select(m => m.Role));
        Assert.Equal(LumoSupportData.Facts[11].Question, first[3].Content);
        var alone = model.Generator.Generate([model.EncodeChat(first.Take(2).ToList())], model.ForChat(options))[0].Text;
        Assert.Equal(alone, first[2].Content);
        Assert.Equal([ChatMessage.User, ChatMessage.Assistant], transcripts[1].Messages.Select(m => m.Role));
    }

    [Fact]
    public void The_suite_defaults_to_the_validation_split()
    {
        var plan = Plan() with { SuiteFile = null, MaxDerivedCases = 3 };
        var suite = plan.LoadSuite();
        Assert.Equal(["validation-1", "validation-2", "validation-3"], suite.Cases.Select(c => c.Id));
        Assert.Equal(LumoSupportData.Facts[0].Answer, suite.Cases[0].References.Single());
        Assert.Equal($"derived from {lumo.ValidationFile}", plan.ReportSettings()["suite"]);
    }

    [Fact]
    public void A_missing_input_file_is_named_before_any_model_is_loaded()
    {
        var plan = Plan() with { DialoguesFile = Path.Combine(lumo.Root, "nope.json") };
        var ex = Assert.Throws<UserInputException>(() => plan.Validate());
        Assert.Equal($"{Path.Combine(lumo.Root, "nope.json")}: file not found", ex.Message);
        Assert.Throws<UserInputException>(() => (Plan() with { BatchSize = 0 }).Validate());
    }
}
