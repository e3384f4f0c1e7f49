using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Hosted;
using ServerlessTune.Core.PipelineConfig;

namespace ServerlessTune.Core.Tests.Hosted;

/// <summary>pipeline.json with a hosted base: the API's hyperparameters, and everything it does not have refused by name at config time.</summary>
public sealed class HostedPipelineOptionsTests
{
    static PipelineOptions Parse(string json) => PipelineOptionsParser.Parse(json, "datasets/acme/pipeline.json");

    static string Refusal(string json) => Assert.Throws<UserInputException>(() => Parse(json)).Message;

    [Fact]
    public void The_train_section_maps_to_the_APIs_hyperparameters()
    {
        var options = Parse("""{"base_model": "azure-openai:gpt-4o-mini-2024-07-18", "train": {"epochs": 3, "batch_size": 8, "learning_rate_multiplier": 0.3, "seed": 42}}""");

        Assert.Equal(new HostedTrainingOptions(3, 8, 0.3, 42), options.HostedTrain);
        // The language-model family needs prompt log-probabilities: hosted runs evaluate the rest, gated on f1 against the base.
        Assert.DoesNotContain(EvalOptions.LanguageModel, options.Eval.Families);
        Assert.Equal(PipelineOptions.DefaultHostedGate, options.Gate);
        Assert.Equal(new HostedTrainingOptions(), Parse("""{"base_model": "openai:gpt-4o-mini"}""").HostedTrain);
        Assert.Null(Parse("""{"base_model": "models/base"}""").HostedTrain);
    }

    [Theory]
    [InlineData("lora_rank", "8")]
    [InlineData("max_steps", "100")]
    [InlineData("learning_rate", "0.0002")]
    public void A_key_of_our_own_trainer_is_refused_by_name(string key, string value)
    {
        string message = Refusal($$$"""{"base_model": "openai:gpt-4o-mini", "train": {"epochs": 2, "{{{key}}}": {{{value}}}}}""");
        Assert.StartsWith($"datasets/acme/pipeline.json: train: {key}: not a hyperparameter of the hosted fine-tuning API for base_model 'openai:gpt-4o-mini'", message);
        Assert.EndsWith("(it takes epochs, batch_size, learning_rate_multiplier, seed)", message);
    }

    [Theory]
    [InlineData("epochs", "0", "expected a whole number from 1 to 50, got 0")]
    [InlineData("batch_size", "2.5", "expected a whole number from 1 to 256, got 2.5")]
    [InlineData("learning_rate_multiplier", "-1", "expected a number above 0 and at most 10, got -1")]
    public void Out_of_range_hyperparameters_are_refused(string key, string value, string reason) =>
        Assert.Equal($"datasets/acme/pipeline.json: train: {key}: {reason}",
            Refusal($$$"""{"base_model": "azure-openai:gpt-4.1-mini", "train": {"{{{key}}}": {{{value}}}}}"""));

    [Fact]
    public void Perplexity_families_and_gate_rules_are_refused_for_hosted_bases()
    {
        Assert.StartsWith("datasets/acme/pipeline.json: eval: families: 'language_model' is not available for hosted models",
            Refusal("""{"base_model": "openai:gpt-4o-mini", "eval": {"families": ["qa", "language_model"]}}"""));
        Assert.StartsWith("datasets/acme/pipeline.json: gate: rules[1].metric: 'perplexity' is not available for hosted models",
            Refusal("""{"base_model": "openai:gpt-4o-mini", "gate": {"rules": [{"metric": "f1", "op": ">=", "relative_to": "base"}, {"metric": "perplexity", "op": "<=", "relative_to": "base"}]}}"""));
        // The same rules are fine for an open base.
        Assert.Equal(2, Parse("""{"gate": {"rules": [{"metric": "f1", "op": ">=", "relative_to": "base"}, {"metric": "perplexity", "op": "<=", "relative_to": "base"}]}}""").Gate.Rules.Count);
    }

    [Fact]
    public void The_tokenizer_and_template_are_the_services_and_unknown_models_are_refused()
    {
        Assert.Equal("datasets/acme/pipeline.json: tokenizer: fixed by the hosted base model 'openai:gpt-4o-mini'",
            Refusal("""{"base_model": "openai:gpt-4o-mini", "tokenizer": "gpt2"}"""));
        Assert.StartsWith("datasets/acme/pipeline.json: base_model 'azure-openai:gpt-9': 'gpt-9' is not a model the fine-tuning API offers",
            Refusal("""{"base_model": "azure-openai:gpt-9"}"""));
        Assert.StartsWith("datasets/acme/pipeline.json: base_model 'openai:': expected azure-openai:<model> or openai:<model>",
            Refusal("""{"base_model": "openai:"}"""));
    }
}
