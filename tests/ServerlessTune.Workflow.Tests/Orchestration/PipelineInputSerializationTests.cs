using System.Text.Json;
using Microsoft.DurableTask.Converters;
using ServerlessTune.Core.Modeling;
using ServerlessTune.Core.PipelineConfig;

namespace ServerlessTune.Workflow.Tests.Orchestration;

/// <summary>
/// pipeline.json is parsed once, where a run starts, and its typed options travel in the orchestrator's input,
/// which the durable engine keeps in the run's history as JSON. What the orchestrator and the activities read
/// back must be exactly what was parsed, under the converter the embedded engine uses and under the Functions
/// worker's (camelCase web defaults).
/// </summary>
public sealed class PipelineInputSerializationTests
{
    /// <summary>Every section with values other than the defaults, including the ones with computed defaults.</summary>
    const string EverySection = """
        {
          "project": "acme",
          "base_model": "models/base",
          "tokenizer": "gpt2",
          "chat_template": "chatml",
          "prepare": { "max_tokens": 512, "validation_fraction": 0.2, "over_limit": "truncate", "roles": { "agent": "assistant", "client": "user" } },
          "train": { "method": "full", "max_steps": 24, "learning_rate": 0.003, "lora_targets": ["q_proj", "v_proj"], "lr_schedule": "linear", "precision": "bf16" },
          "eval": { "suite": "eval/suite.jsonl", "dialogues": "eval/dialogues.jsonl", "families": ["qa", "language_model"], "max_cases": 3, "max_new_tokens": 8 },
          "gate": { "mode": "advisory", "rules": [
            { "metric": "perplexity", "op": "<=", "relative_to": "base", "factor": 0.9, "offset": -0.01 },
            { "metric": "exact_match", "op": ">=", "value": 0.5 } ] },
          "deploy": { "alias": "staging", "format": "bf16" }
        }
        """;

    public static TheoryData<string> Converters => ["durable task default", "web defaults"];

    static JsonDataConverter Converter(string name) => name == "web defaults"
        ? new JsonDataConverter(new JsonSerializerOptions(JsonSerializerDefaults.Web))
        : JsonDataConverter.Default;

    static PipelineInput RoundTrip(string converter, PipelineInput input)
    {
        var json = Converter(converter);
        return (PipelineInput)json.Deserialize(json.Serialize(input), typeof(PipelineInput))!;
    }

    /// <summary>A record's lists compare by reference; its full JSON (computed members included) compares by value.</summary>
    static string Everything(object value) => JsonSerializer.Serialize(value);

    [Theory]
    [MemberData(nameof(Converters))]
    public void Every_section_survives_the_durable_serializer_unchanged(string converter)
    {
        var options = PipelineOptionsParser.Parse(EverySection, "pipeline.json");
        var input = new PipelineInput("acme", options, "datasets/acme/pipeline.json", new TimingOptions(PollSeconds: 1, JobTimeoutMinutes: 2));

        var back = RoundTrip(converter, input);

        Assert.Equal(Everything(input), Everything(back));
        Assert.Equal(["qa", "language_model"], back.Options.Eval.Families);
        Assert.Equal(0.9, back.Options.Gate.Rules[0].Factor);
        Assert.Equal("user", back.Options.Prepare.Roles["client"]);
        Assert.Equal(["q_proj", "v_proj"], back.Options.Train.LoraTargets);
        Assert.Equal("staging", back.Options.DeployAlias);
        Assert.Equal(WeightFormat.Bf16, back.Options.Deploy.Format);
    }

    [Theory]
    [MemberData(nameof(Converters))]
    public void Defaults_read_back_as_the_parser_made_them(string converter)
    {
        foreach (var json in new[] { "{}", """{ "eval": { "dialogues": "eval/dialogues.jsonl" } }""" })
        {
            var options = PipelineOptionsParser.Parse(json, "pipeline.json");

            var back = RoundTrip(converter, new PipelineInput("acme", options)).Options;

            Assert.Equal(Everything(options), Everything(back));
            Assert.Equal(options.Eval.Families, back.Eval.Families);
            Assert.Equal(options.Gate.Rules.Single(), back.Gate.Rules.Single());
            Assert.Equal(options.Prepare.Roles.OrderBy(l => l.Key), back.Prepare.Roles.OrderBy(l => l.Key));
        }
    }
}
