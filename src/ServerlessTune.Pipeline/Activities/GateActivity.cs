using Microsoft.DurableTask;
using ServerlessTune.Core.Registry;
using ServerlessTune.Pipeline.Orchestration;
using ServerlessTune.Pipeline.Steps;

namespace ServerlessTune.Pipeline.Activities;

[DurableTask(PipelineNames.Gate)]
public sealed class GateActivity : TaskActivity<GateInput, GateRecord>
{
    public override Task<GateRecord> RunAsync(TaskActivityContext context, GateInput input) => Task.FromResult(GateStep.Decide(input));
}
