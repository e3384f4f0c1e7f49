using Microsoft.DurableTask;
using ServerlessTune.Pipeline.Orchestration;
using ServerlessTune.Pipeline.Steps;

namespace ServerlessTune.Pipeline.Activities;

[DurableTask(PipelineNames.PrepareData)]
public sealed class PrepareDataActivity(PrepareStep step) : TaskActivity<PrepareDataInput, PreparedData>
{
    public override Task<PreparedData> RunAsync(TaskActivityContext context, PrepareDataInput input) => step.RunAsync(input);
}
