using Microsoft.DurableTask;
using ServerlessTune.Pipeline.Orchestration;
using ServerlessTune.Pipeline.Training;

namespace ServerlessTune.Pipeline.Activities;

[DurableTask(PipelineNames.StopTraining)]
public sealed class StopTrainingActivity(TrainingJobs jobs) : TaskActivity<TrainingJob, bool>
{
    public override async Task<bool> RunAsync(TaskActivityContext context, TrainingJob input)
    {
        await jobs.StopAsync(input);
        return true;
    }
}
