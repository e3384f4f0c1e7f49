using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using ServerlessTune.Core.Jobs;
using ServerlessTune.Workflow;
using ServerlessTune.Workflow.Jobs;
using ServerlessTune.Workflow.Steps;

namespace ServerlessTune.Functions;

/// <summary>
/// The orchestration and activity triggers: each hands its input to the step method the embedded runner
/// registers under the same name (PipelineTasks), so the Functions app and `stune run` execute identical code.
/// </summary>
public sealed class PipelineFunctions(ResolveBaseModelStep resolve, PrepareStep prepare, TrainStep train, EvaluateStep evaluate, RunJobs jobs,
    GateStep gate, DeployStep deploy, DashboardStep dashboard)
{
    [Function(PipelineNames.Orchestrator)]
    public static Task<PipelineResult> FineTunePipeline([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new FineTunePipeline().RunAsync(context, context.GetInput<PipelineInput>()!);

    [Function(PipelineNames.ResolveBaseModel)]
    public Task<string> ResolveBaseModel([ActivityTrigger] string baseModel) => resolve.ResolveAsync(baseModel);

    [Function(PipelineNames.PrepareData)]
    public Task<PreparedData> PrepareData([ActivityTrigger] PrepareDataInput input) => prepare.RunAsync(input);

    [Function(PipelineNames.StartTraining)]
    public Task<JobHandle> StartTraining([ActivityTrigger] TrainInput input) => train.StartAsync(input);

    [Function(PipelineNames.StartEvaluation)]
    public Task<JobHandle> StartEvaluation([ActivityTrigger] EvaluateInput input) => evaluate.StartAsync(input);

    [Function(PipelineNames.EvaluateHosted)]
    public Task EvaluateHosted([ActivityTrigger] EvaluateInput input) => evaluate.EvaluateHostedAsync(input);

    [Function(PipelineNames.GetJobStatus)]
    public Task<JobProgress> GetJobStatus([ActivityTrigger] JobHandle job) => jobs.GetStatusAsync(job);

    [Function(PipelineNames.StopJob)]
    public Task StopJob([ActivityTrigger] JobHandle job) => jobs.StopAsync(job);

    [Function(PipelineNames.Gate)]
    public Task<GatedCandidate> Gate([ActivityTrigger] GateInput input) => gate.RunAsync(input);

    [Function(PipelineNames.Deploy)]
    public Task<Deployment> Deploy([ActivityTrigger] DeployInput input) => deploy.RunAsync(input);

    [Function(PipelineNames.WriteDashboard)]
    public Task<string> WriteDashboard([ActivityTrigger] DashboardInput input) => dashboard.RunAsync(input);
}
