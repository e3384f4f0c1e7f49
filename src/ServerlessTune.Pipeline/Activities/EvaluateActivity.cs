using Microsoft.DurableTask;
using ServerlessTune.Pipeline.Orchestration;
using ServerlessTune.Pipeline.Steps;

namespace ServerlessTune.Pipeline.Activities;

[DurableTask(PipelineNames.Evaluate)]
public sealed class EvaluateActivity(EvaluateStep step) : TaskActivity<EvaluateInput, FamilyResult>
{
    public override Task<FamilyResult> RunAsync(TaskActivityContext context, EvaluateInput input) => step.RunAsync(input);
}
