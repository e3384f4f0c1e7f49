using Microsoft.DurableTask;
using ServerlessTune.Pipeline.Orchestration;
using ServerlessTune.Pipeline.Training;

namespace ServerlessTune.Pipeline.Activities;

[DurableTask(PipelineNames.GetTrainingStatus)]
public sealed class GetTrainingStatusActivity(TrainingJobs jobs) : TaskActivity<TrainingJob, TrainingStatus>
{
    public override Task<TrainingStatus> RunAsync(TaskActivityContext context, TrainingJob input) => jobs.GetStatusAsync(input);
}
