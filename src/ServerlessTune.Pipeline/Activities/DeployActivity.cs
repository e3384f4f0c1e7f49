using Microsoft.DurableTask;
using ServerlessTune.Pipeline.Orchestration;
using ServerlessTune.Pipeline.Steps;

namespace ServerlessTune.Pipeline.Activities;

[DurableTask(PipelineNames.Deploy)]
public sealed class DeployActivity(DeployStep step) : TaskActivity<DeployInput, Deployment>
{
    public override Task<Deployment> RunAsync(TaskActivityContext context, DeployInput input) => step.RunAsync(input);
}
