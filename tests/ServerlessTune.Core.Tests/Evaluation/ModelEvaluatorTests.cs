using System.Text.Json;
using ServerlessTune.Core.Chat;
using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Feedback;
using ServerlessTune.Core.Generation;
using ServerlessTune.Core.PipelineConfig;
using ServerlessTune.Core.Storage;
using ServerlessTune.Core.Tests.Training;
using ServerlessTune.Core.Training;
using Xunit.Abstractions;

namespace ServerlessTune.Core.Tests.Evaluation;

public class ModelEvaluatorTests(TrainedLumoFixture lumo, ITestOutputHelper output) : IClassFixture<TrainedLumoFixture>
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

    EvaluatedModel Trained => new(GateOptions.DefaultModel, lumo.CandidateDirectory);

    EvaluatedModel WithAdapter(string adapter) => new(GateOptions.DefaultModel, lumo.BaseDirectory, adapter);

    async Task<EvaluationReport> EvaluateAsync(EvaluatedModel candidate)
    {
        var evaluator = new ModelEvaluator(Plan());
        var outputs = new List<FamilyOutput>();
        foreach (var model in new[] { Base, candidate })
            outputs.AddRange(await evaluator.RunAllAsync(model));
        return Plan().Report("run-1", outputs, GateOptions.DefaultModel, new EvaluationOptions { Seed = 4, Resamples = 200 },
            GateOptions.Load(lumo.GateFile), TrainingCurve.Load(lumo.MetricsFile));
    }

    static double Metric(EvaluationReport report, string model, string metric) => report.Models.Single(m => m.Name == model).Metrics[metric].Value;

    [Fact]
    public async Task The_trained_candidate_beats_its_base_on_its_own_suite_and_passes_the_gate()
    {
        var report = await EvaluateAsync(Trained);
        output.WriteLine(MarkdownReport.Render(report));

        Assert.True(report.Gate!.Passed, string.Join("\n", report.Gate.Rules.Select(r => r.Message)));
        Assert.All(report.Gate.Rules, r => Assert.Equal(RuleStatus.Passed, r.Status));
        Assert.True(Metric(report, "candidate", "f1") > Metric(report, "base", "f1") + 0.3,
            $"f1 {Metric(report, "base", "f1")} -> {Metric(report, "candidate", "f1")}");
        Assert.True(Metric(report, "candidate", "perplexity") < 0.5 * Metric(report, "base", "perplexity"));
        Assert.True(Metric(report, "candidate", "top1_accuracy") > Metric(report, "base", "top1_accuracy"));
        Assert.Equal(TrainedLumoFixture.Facts.Length, report.Models.Single(m => m.Name == "candidate").Metrics["f1"].N);
        var f1 = report.Deltas.Single(d => d.Metric == "f1" && d.Reference == "base");
        Assert.True(f1.Wins > f1.Losses, $"wins {f1.Wins}, losses {f1.Losses}");
        Assert.Equal("greedy", report.Settings["decoding"]);
        Assert.Equal(4, report.Dialogues.Count);
        Assert.NotEmpty(report.Training!.Points);

        var store = new LocalFolderStore(Path.Combine(lumo.Root, "store-" + Guid.NewGuid().ToString("N")[..6]));
        await ReportWriter.WriteAsync(report, store);
        var json = await store.ReadAllTextAsync("reports/run-1/report.json");
        Assert.Equal(ReportJson.Serialize(report), json);
    }

    [Fact]
    public async Task A_candidate_with_a_noise_adapter_fails_the_gate_with_readable_reasons()
    {
        var report = await EvaluateAsync(WithAdapter(lumo.BrokenAdapterDirectory));
        output.WriteLine(MarkdownReport.Render(report));

        Assert.False(report.Gate!.Passed);
        var failed = report.Gate.Rules.Where(r => r.Status == RuleStatus.Failed).ToList();
        var perplexity = Assert.Single(failed, r => r.Rule.Metric == "perplexity");
        Assert.Matches(@"^failed: candidate perplexity [\d.]+ is not <= [\d.]+ \(0\.9 x base perplexity, where base perplexity = [\d.]+\)$", perplexity.Message);
        Assert.True(perplexity.Actual > perplexity.Threshold);
        Assert.Contains(failed, r => r.Rule.Metric == "rouge_l");
        Assert.StartsWith("gate failed (enforce): ", report.Gate.Summary());
        Assert.Contains("- failed: candidate perplexity ", MarkdownReport.Render(report));
    }

    [Fact]
    public async Task The_feedback_family_plays_the_rejected_answers_and_the_trained_candidate_fixes_them()
    {
        // Users rejected the base's answer to two trained questions and corrected a third.
        using var dir = new TempDir();
        string casesFile = dir.File(PreparedPaths.FeedbackCasesFile);
        FeedbackCase Case(int fact, string? correction = null) => new($"c{fact}", "v1",
            [new ChatMessage(ChatMessage.System, LumoSupportData.System), new ChatMessage(ChatMessage.User, TrainedLumoFixture.Facts[fact].Question)],
            "I'm not able to answer that.", null, correction);
        File.WriteAllText(casesFile, FeedbackCaseFile.Serialize([Case(0), Case(1), Case(2, TrainedLumoFixture.Facts[2].Answer)]));
        var plan = Plan() with { FeedbackCasesFile = casesFile };

        var outputs = new List<FamilyOutput>();
        foreach (var model in new[] { Base, Trained })
            outputs.AddRange(await new ModelEvaluator(plan).RunAllAsync(model, [EvalOptions.Feedback]));
        Assert.All(outputs, o => Assert.Equal(["c0", "c1", "c2"], o.FeedbackAnswers!.Keys));
        var report = plan.Report("run-1", outputs, GateOptions.DefaultModel, new EvaluationOptions { Resamples = 200 });
        output.WriteLine(MarkdownReport.Render(report));

        Assert.Equal(1.0, Metric(report, "candidate", MetricCatalog.FeedbackFixed));
        Assert.Equal(2, report.Models.Single(m => m.Name == "candidate").Metrics[MetricCatalog.FeedbackFixed].N);
        Assert.True(Metric(report, "candidate", MetricCatalog.FeedbackCorrectedF1) > Metric(report, "base", MetricCatalog.FeedbackCorrectedF1));
        Assert.Equal(TrainedLumoFixture.Facts[2].Answer, report.Feedback!.Cases[2].Correction);
    }

    [Fact]
    public async Task Greedy_evaluation_writes_the_same_report_json_twice()
    {
        var first = ReportJson.Serialize(await EvaluateAsync(Trained));
        var second = ReportJson.Serialize(await EvaluateAsync(Trained));
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task One_family_at_a_time_through_the_output_files_equals_all_families_at_once()
    {
        var evaluator = new ModelEvaluator(Plan());
        var whole = await evaluator.RunAllAsync(WithAdapter(lumo.AdapterDirectory));

        // What the evaluation job writes per family (runs/{id}/eval/{family}.json) and the Gate step reads back.
        using var dir = new TempDir();
        var store = new LocalFolderStore(dir.Path);
        foreach (var family in EvalOptions.AllFamilies)
            await EvaluationOutputs.WriteAsync(store, "run-1",
                new FamilyResult(family, await evaluator.RunAllAsync(WithAdapter(lumo.AdapterDirectory), [family])));
        var outputs = await EvaluationOutputs.ReadAsync(store, "run-1", EvalOptions.AllFamilies);

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
    public async Task Assistant_nll_is_the_trainers_validation_loss_of_the_same_weights()
    {
        var output = Assert.Single(await new ModelEvaluator(Plan()).RunAllAsync(Trained, [EvalOptions.LanguageModel]));
        var last = MetricsFile.Read(lumo.MetricsFile).Last(r => r.Kind == MetricRecord.EvalKind);
        var nll = output.LanguageModel!.AssistantNllSum / output.LanguageModel.AssistantTokens;
        Assert.Equal(last.ValLoss!.Value, nll, 1e-4);
    }

    [Fact]
    public void Suite_answers_are_generated_in_batches_and_equal_one_at_a_time_answers()
    {
        using var model = ChatModel.Load(lumo.CandidateDirectory);
        var suite = EvalSuite.Load(lumo.SuiteFile);
        var options = new GenerationOptions { MaxNewTokens = 40 };
        var batches = new List<int>();

        var batched = SuiteAnswerer.Answer(model, suite, options, batchSize: 3, (_, _, size) => batches.Add(size));
        var single = SuiteAnswerer.Answer(model, suite, options, batchSize: 1);

        Assert.Equal([3, 3, 2], batches);
        Assert.Equal(suite.Cases.Select(c => c.Id), batched.Keys);
        Assert.Equal(single, batched);
        // The fine-tuned model answers most questions word for word.
        var exact = suite.Cases.Count(c => batched[c.Id] == c.References[0]);
        Assert.True(exact >= 6, string.Join("\n", suite.Cases.Select(c => $"{c.References[0]} | {batched[c.Id]}")));
    }

    [Fact]
    public async Task Dialogues_keep_every_turn_and_answer_like_a_single_question()
    {
        using var model = ChatModel.Load(lumo.CandidateDirectory);
        var scripts = DialogueScript.Load(lumo.DialoguesFile);
        var options = new GenerationOptions { MaxNewTokens = 40 };

        var transcripts = await DialogueRunner.RunAsync(model, "candidate", scripts, options);

        Assert.Equal(["warranty-then-return", "no-system"], transcripts.Select(t => t.Id));
        var first = transcripts[0].Messages;
        Assert.Equal([ChatMessage.System, ChatMessage.User, ChatMessage.Assistant, ChatMessage.User, ChatMessage.Assistant], first.Select(m => m.Role));
        Assert.Equal(TrainedLumoFixture.Facts[3].Question, first[3].Content);
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
    public async Task A_missing_input_or_unknown_family_is_named_before_any_model_is_loaded()
    {
        var plan = Plan() with { DialoguesFile = Path.Combine(lumo.Root, "nope.json") };
        var ex = Assert.Throws<UserInputException>(() => plan.Validate());
        Assert.Equal($"{Path.Combine(lumo.Root, "nope.json")}: file not found", ex.Message);
        Assert.Throws<UserInputException>(() => (Plan() with { BatchSize = 0 }).Validate());
        var evaluator = new ModelEvaluator(Plan() with { DialoguesFile = null });
        var noScripts = await Assert.ThrowsAsync<UserInputException>(() => evaluator.RunAllAsync(Base, [EvalOptions.Dialogues]));
        Assert.Equal("the dialogues family needs a dialogue file", noScripts.Message);
        var unknown = await Assert.ThrowsAsync<UserInputException>(() => evaluator.RunAllAsync(Base, ["bleu"]));
        Assert.Equal("unknown evaluation family 'bleu' (known: language_model, qa, dialogues, feedback)", unknown.Message);
    }
}
