using ServerlessTune.Core.Jobs;
using ServerlessTune.Workflow.Jobs;

namespace ServerlessTune.Workflow.Steps;

/// <summary>
/// The Train step: asks the job container to fine-tune the base model on the prepared data (runs/{runId}/jobs/train/).
/// The orchestrator polls the job through <see cref="RunJobs"/>; the trainer writes metrics, checkpoints and the
/// adapter (or merged checkpoint) to runs/{runId}/ and resumes from its checkpoints when it is started again.
/// </summary>
public sealed class TrainStep(RunJobs jobs)
{
    public Task<JobHandle> StartAsync(TrainInput input, CancellationToken ct = default) =>
        jobs.StartAsync(new JobSpec
        {
            Kind = JobKinds.Train,
            RunId = input.RunId,
            Project = input.Project,
            BaseModel = input.BaseModel,
            Data = input.DataPrefix,
            Hyperparameters = input.Options,
            ChatTemplate = input.ChatTemplate,
        }, input.Relaunch, ct);
}
