using ServerlessTune.Core.Evaluation;
using ServerlessTune.Core.PipelineConfig;
using ServerlessTune.Core.Storage;

namespace ServerlessTune.Workflow.Tests.Orchestration;

/// <summary>
/// TEST-ONLY evaluation results, in the evaluation job's own file format: the base model's perplexity is 3.0 and
/// the candidate's the given one (over 100 assistant tokens); no answers, so the real Gate step measures and
/// decides on perplexity alone.
/// </summary>
public sealed class ScriptedEvaluation(double candidatePerplexity)
{
    public const double BasePerplexity = 3.0;

    public IEnumerable<(string Family, string Json)> Files()
    {
        yield return (EvalOptions.LanguageModel, EvaluationOutputs.Serialize(new FamilyResult(EvalOptions.LanguageModel,
            [Output("base", BasePerplexity), Output("candidate", candidatePerplexity)])));
        yield return (EvalOptions.QuestionAnswering, EvaluationOutputs.Serialize(new FamilyResult(EvalOptions.QuestionAnswering, [])));
        yield return (EvalOptions.Feedback, EvaluationOutputs.Serialize(new FamilyResult(EvalOptions.Feedback, [])));
    }

    /// <summary>For a store the scripts cannot write to (blob storage): the outputs put in place before the run.</summary>
    public async Task WriteAsync(IArtifactStore store, string runId)
    {
        foreach (var (family, json) in Files())
            await store.WriteAllTextAsync(ArtifactLayout.Run(runId).Evaluation(family), json);
    }

    static FamilyOutput Output(string model, double perplexity) =>
        new(EvalOptions.LanguageModel, model, model, new LanguageModelTotals(100 * Math.Log(perplexity), 100, 50, 100 * Math.Log(perplexity), 100));
}
