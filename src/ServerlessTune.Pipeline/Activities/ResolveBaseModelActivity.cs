using Microsoft.DurableTask;
using ServerlessTune.Pipeline.Models;
using ServerlessTune.Pipeline.Orchestration;

namespace ServerlessTune.Pipeline.Activities;

[DurableTask(PipelineNames.ResolveBaseModel)]
public sealed class ResolveBaseModelActivity(BaseModelStep step) : TaskActivity<string, string>
{
    public override Task<string> RunAsync(TaskActivityContext context, string baseModel) => step.ResolveAsync(baseModel);
}
