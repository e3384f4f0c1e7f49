using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Pipeline;
using ServerlessTune.Core.Registry;
using ServerlessTune.Pipeline.Orchestration;

namespace ServerlessTune.Pipeline.Steps;

/// <summary>The Gate step: the configured rules over every family's figures, merged per model.</summary>
public static class GateStep
{
    public static GateRecord Decide(GateInput input)
    {
        var config = PipelineConfigParser.Parse(input.ConfigJson ?? "{}", input.ConfigSource);
        var models = input.Families.SelectMany(f => f.Models)
            .GroupBy(m => m.Name, StringComparer.Ordinal)
            .Select(g => new ModelReport(g.Key, g.First().Source,
                g.SelectMany(m => m.Metrics).GroupBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => kv.First().Value, StringComparer.Ordinal)))
            .ToList();
        var result = QualityGate.Evaluate(config.Gate, models);
        var reasons = result.Rules.Where(r => r.Status == RuleStatus.Failed).Select(r => r.Message).ToList();
        return new GateRecord(result.Passed, config.Gate.Mode.ToString().ToLowerInvariant(), reasons);
    }
}
