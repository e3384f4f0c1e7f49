using Microsoft.DurableTask;
using ServerlessTune.Pipeline.Orchestration;
using ServerlessTune.Pipeline.Training;

namespace ServerlessTune.Pipeline.Activities;

[DurableTask(PipelineNames.StartTraining)]
public sealed class StartTrainingActivity(TrainingJobs jobs) : TaskActivity<StartTrainingInput, TrainingJob>
{
    public override Task<TrainingJob> RunAsync(TaskActivityContext context, StartTrainingInput input) => jobs.StartAsync(input);
}
