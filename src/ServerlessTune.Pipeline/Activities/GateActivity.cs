using Microsoft.DurableTask;
using ServerlessTune.Pipeline.Orchestration;
using ServerlessTune.Pipeline.Steps;

namespace ServerlessTune.Pipeline.Activities;

[DurableTask(PipelineNames.Gate)]
public sealed class GateActivity(GateStep step) : TaskActivity<GateInput, GateDecision>
{
    public override Task<GateDecision> RunAsync(TaskActivityContext context, GateInput input) => step.RunAsync(input);
}
