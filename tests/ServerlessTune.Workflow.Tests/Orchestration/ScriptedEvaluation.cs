using System.Collections.Concurrent;
using Microsoft.DurableTask;
using ServerlessTune.Core;
using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.Pipeline;
using ServerlessTune.Pipeline.Orchestration;

namespace ServerlessTune.Pipeline.Tests.Orchestration;

/// <summary>
/// TEST-ONLY stand-in for the Evaluate activity, registered under its name so the orchestrator's fan-out,
/// fan-in, gate and retry paths can be exercised before the evaluation service can run models.
/// Figures and injected faults come from <see cref="EvaluationScript"/>.
/// </summary>
[DurableTask(PipelineNames.Evaluate)]
public sealed class ScriptedEvaluateActivity(EvaluationScript script) : TaskActivity<EvaluateInput, FamilyResult>
{
    public override Task<FamilyResult> RunAsync(TaskActivityContext context, EvaluateInput input) => Task.FromResult(script.Evaluate(input));
}

/// <param name="CandidatePerplexity">The candidate's perplexity (the base's is 3.0 in every run).</param>
/// <param name="TransientFailuresPerFamily">IOExceptions thrown by each family's first attempts.</param>
/// <param name="UserError">Thrown as a UserInputException on every attempt when set.</param>
public sealed class EvaluationScript(double CandidatePerplexity, int TransientFailuresPerFamily = 0, string? UserError = null)
{
    public const double BasePerplexity = 3.0;
    readonly ConcurrentDictionary<string, int> _attempts = new();

    public IReadOnlyDictionary<string, int> Attempts => _attempts;

    public FamilyResult Evaluate(EvaluateInput input)
    {
        int attempt = _attempts.AddOrUpdate(input.Family, 1, (_, n) => n + 1);
        if (UserError is not null) throw new UserInputException(UserError);
        if (attempt <= TransientFailuresPerFamily) throw new IOException($"injected transient failure {attempt} of {input.Family}");
        // Real families run models; this one returns totals whose perplexity is the scripted one (100 assistant
        // tokens), and no outputs for the other families, so the real Gate step measures and decides on them.
        return input.Family == EvalSettings.LanguageModel
            ? new FamilyResult(input.Family, [Output(input, "base", BasePerplexity), Output(input, "candidate", CandidatePerplexity)])
            : new FamilyResult(input.Family, []);
    }

    static FamilyOutput Output(EvaluateInput input, string model, double perplexity) =>
        new(input.Family, model, model, new LanguageModelTotals(100 * Math.Log(perplexity), 100, 50, 100 * Math.Log(perplexity), 100));
}
