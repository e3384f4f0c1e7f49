using ServerlessTune.Core;
using ServerlessTune.Core.Data;
using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Feedback;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.PipelineConfig;
using ServerlessTune.Core.Training;

namespace ServerlessTune.Core.Tests.PipelineConfig;

public sealed class PipelineConfigParserTests
{
    [Fact]
    public void A_full_config_sets_every_section()
    {
        var config = PipelineOptionsParser.Parse("""
            {
              // comments are allowed: users annotate their configs
              "project": "acme-support",
              "base_model": "models/smollm-135m",
              "tokenizer": "cl100k",
              "chat_template": "chatml",
              "prepare": { "max_tokens": 512, "validation_fraction": 0.2, "over_limit": "truncate" },
              "train": { "epochs": 3, "learning_rate": 0.0002, "lora_rank": 8 },
              "eval": { "suite": "datasets/acme-support/suite.jsonl", "families": ["qa", "language_model"] },
              "gate": { "mode": "manual", "rules": [ { "metric": "exact_match", "op": ">=", "value": 0.5 } ] },
              "deploy": { "alias": "staging", "format": "int8" }
            }
            """);

        Assert.Equal("acme-support", config.Project);
        Assert.Equal("models/smollm-135m", config.BaseModel);
        Assert.Equal("cl100k", config.Prepare.Tokenizer);
        Assert.Equal("chatml", config.Prepare.Template);
        Assert.Equal(512, config.Prepare.MaxTokens);
        Assert.Equal(0.2, config.Prepare.ValidationFraction);
        Assert.Equal(OverLimitPolicy.Truncate, config.Prepare.OverLimit);
        Assert.Equal(3, config.Train.Epochs);
        Assert.Equal(0.0002, config.Train.LearningRate);
        Assert.Equal(8, config.Train.LoraRank);
        Assert.Equal("datasets/acme-support/suite.jsonl", config.Eval.Suite);
        Assert.Equal(new[] { "qa", "language_model" }, config.Eval.Families);
        Assert.Equal(GateMode.Manual, config.Gate.Mode);
        Assert.Equal("exact_match", Assert.Single(config.Gate.Rules).Metric);
        Assert.Equal("staging", config.DeployAlias);
        Assert.Equal(WeightFormat.Int8, config.Deploy.Format);
    }

    [Fact]
    public void An_empty_config_takes_the_defaults()
    {
        var config = PipelineOptionsParser.Parse("{}");
        Assert.Null(config.Project);
        Assert.Null(config.BaseModel);
        Assert.Equal(new PrepareOptions().MaxTokens, config.Prepare.MaxTokens);
        Assert.Equal(new TrainingOptions(), config.Train);
        // Dialogues only with a dialogues file; the feedback cases whenever feedback is read (the default).
        Assert.Equal(new[] { EvalOptions.LanguageModel, EvalOptions.QuestionAnswering, EvalOptions.Feedback }, config.Eval.Families);
        // With dialogues too, each family once (the evaluation job keys its outputs by family).
        Assert.Equal(new[] { EvalOptions.LanguageModel, EvalOptions.QuestionAnswering, EvalOptions.Dialogues, EvalOptions.Feedback },
            PipelineOptionsParser.Parse("""{ "eval": { "dialogues": "eval/dialogues.jsonl" } }""").Eval.Families);
        Assert.Equal(GateMode.Enforce, config.Gate.Mode);
        Assert.Equal("perplexity", Assert.Single(config.Gate.Rules).Metric);
        Assert.Equal("production", config.DeployAlias);
        Assert.Equal(WeightFormat.Fp32, config.Deploy.Format);
    }

    [Fact]
    public void An_advisory_gate_deploys_to_staging()
    {
        var config = PipelineOptionsParser.Parse("""{ "gate": { "mode": "advisory", "rules": [] }, "deploy": { "alias": "production" } }""");
        Assert.Equal("staging", config.DeployAlias);
    }

    [Fact]
    public void The_feedback_section_has_defaults_and_reads_every_key()
    {
        Assert.Equal(new FeedbackOptions(Include: true, Since: null, MinRating: 1, RetentionDays: 90), PipelineOptionsParser.Parse("{}").Feedback);
        var feedback = PipelineOptionsParser.Parse("""{ "feedback": { "include": false, "since": "2026-11-01", "min_rating": 1, "retention_days": 30 } }""").Feedback;
        Assert.Equal(new FeedbackOptions(false, new DateOnly(2026, 11, 1), 1, 30), feedback);
        var retrain = PipelineOptionsParser.Parse("""{ "feedback": { "retrain_after": 25 }, "gate": { "rules": [ { "metric": "feedback_fixed", "op": ">=", "value": 0.5 } ] } }""");
        Assert.Equal(25, retrain.Feedback.RetrainAfter);
        Assert.Contains(EvalOptions.Feedback, retrain.Eval.Families);
        Assert.DoesNotContain(EvalOptions.Feedback, PipelineOptionsParser.Parse("""{ "feedback": { "include": false } }""").Eval.Families);
    }

    [Theory]
    [InlineData("[]", "pipeline.json: expected a JSON object")]
    [InlineData("{\"projct\": \"x\"}", "pipeline.json: projct: unknown key")]
    [InlineData("{\"project\": \"../x\"}", "pipeline.json: project: invalid project")]
    [InlineData("{\"project\": 5}", "pipeline.json: project: expected a string")]
    [InlineData("{\"base_model\": \" \"}", "pipeline.json: base_model: empty")]
    [InlineData("{\"prepare\": {\"max_tokns\": 5}}", "pipeline.json: prepare.max_tokns:")]
    [InlineData("{\"prepare\": {\"max_tokens\": \"many\"}}", "pipeline.json: prepare.max_tokens:")]
    [InlineData("{\"prepare\": {\"max_tokens\": 4}}", "pipeline.json: prepare: --max-tokens must be at least 8")]
    [InlineData("{\"prepare\": {\"over_limit\": 1}}", "pipeline.json: prepare.over_limit:")]
    [InlineData("{\"train\": {\"epochz\": 1}}", "pipeline.json: train")]
    [InlineData("{\"train\": 3}", "pipeline.json: train: expected a JSON object")]
    [InlineData("{\"eval\": {\"families\": [\"vibes\"]}}", "pipeline.json: eval: families: unknown family 'vibes'")]
    [InlineData("{\"eval\": {\"families\": []}}", "pipeline.json: eval: families: empty")]
    [InlineData("{\"eval\": {\"suite\": \"../suite.jsonl\"}}", "pipeline.json: eval: suite: invalid artifact path")]
    [InlineData("{\"gate\": {\"mode\": \"lenient\", \"rules\": []}}", "pipeline.json: gate: mode: 'lenient'")]
    [InlineData("{\"deploy\": {\"alias\": \"latest\"}}", "pipeline.json: deploy: alias: 'latest'")]
    [InlineData("{\"deploy\": {\"format\": \"fp16\"}}", "pipeline.json: deploy: format: 'fp16' is not one of fp32, bf16, int8")]
    [InlineData("{\"deploy\": {\"format\": 8}}", "pipeline.json: deploy: format:")]
    [InlineData("{\"base_model\": \"azure-openai:gpt-4o-mini-2024-07-18\", \"deploy\": {\"format\": \"int8\"}}",
        "pipeline.json: deploy: format: 'int8' applies to open models")]
    [InlineData("{\"feedback\": {\"sinse\": \"2026-01-01\"}}", "pipeline.json: feedback: sinse: unknown key")]
    [InlineData("{\"feedback\": {\"since\": \"last week\"}}", "pipeline.json: feedback: since: 'last week' is not a yyyy-mm-dd date")]
    [InlineData("{\"feedback\": {\"min_rating\": -1}}", "pipeline.json: feedback: min_rating: ratings are +1 or -1")]
    [InlineData("{\"feedback\": {\"retention_days\": 0}}", "pipeline.json: feedback: retention_days:")]
    [InlineData("{\"feedback\": {\"include\": \"yes\"}}", "pipeline.json: feedback: include:")]
    [InlineData("{\"feedback\": {\"retrain_after\": 0}}", "pipeline.json: feedback: retrain_after: expected a whole number from 1 to 100000")]
    [InlineData("{\"feedback\": {\"retrain_after\": 2.5}}", "pipeline.json: feedback: retrain_after: expected a whole number")]
    [InlineData("{\"feedback\": {\"include\": false, \"retrain_after\": 10}}", "pipeline.json: feedback: retrain_after: a run started for new ratings would not read them")]
    [InlineData("{\"feedback\": {\"include\": false}, \"eval\": {\"families\": [\"feedback\"]}}", "pipeline.json: eval: families: 'feedback' needs feedback.include")]
    [InlineData("{\"feedback\": {\"include\": false}, \"gate\": {\"rules\": [{\"metric\": \"feedback_fixed\", \"op\": \">=\", \"value\": 0.5}]}}",
        "pipeline.json: gate: rules[0].metric: 'feedback_fixed' needs the feedback cases evaluated")]
    [InlineData("{\"eval\": {\"families\": [\"qa\"]}, \"gate\": {\"rules\": [{\"metric\": \"feedback_corrected_f1\", \"op\": \">=\", \"value\": 0.5}]}}",
        "pipeline.json: gate: rules[0].metric: 'feedback_corrected_f1' needs the feedback cases evaluated")]
    [InlineData("{\"gate\": {\"rules\": [{\"metric\": \"feedback_fixed\", \"subset\": \"clean\", \"op\": \">=\", \"value\": 0.5}]}}",
        "pipeline.json: gate: rules[0]: subset: applies to suite metrics, not to feedback_fixed (measured over the feedback cases)")]
    public void Errors_name_the_key(string json, string expectedStart)
    {
        var error = Assert.Throws<UserInputException>(() => PipelineOptionsParser.Parse(json));
        Assert.StartsWith(expectedStart, error.Message);
    }

    [Fact]
    public void Broken_json_names_the_source_and_line()
    {
        var error = Assert.Throws<UserInputException>(() => PipelineOptionsParser.Parse("{\n\"project\": \"a\",\n\"deploy\": }", "datasets/acme/pipeline.json"));
        Assert.StartsWith("datasets/acme/pipeline.json:3: invalid JSON", error.Message);
    }
}
