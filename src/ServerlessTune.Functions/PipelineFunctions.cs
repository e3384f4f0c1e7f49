using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using ServerlessTune.Core.Registry;
using ServerlessTune.Pipeline.Activities;
using ServerlessTune.Pipeline.Orchestration;

namespace ServerlessTune.Functions;

/// <summary>
/// The orchestration and activity triggers: each hands its input to the same class the local runner
/// registers, so the Functions app and `stune run` execute identical pipeline code.
/// </summary>
public static class PipelineFunctions
{
    [Function(PipelineNames.Orchestrator)]
    public static Task<PipelineResult> FineTunePipeline([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new FineTunePipeline().RunAsync(context, context.GetInput<PipelineInput>()!);

    [Function(PipelineNames.ResolveBaseModel)]
    public static Task<string> ResolveBaseModel([ActivityTrigger] string baseModel, string instanceId, FunctionContext function) =>
        Activity<ResolveBaseModelActivity>(function).RunAsync(Context(PipelineNames.ResolveBaseModel, instanceId), baseModel);

    [Function(PipelineNames.PrepareData)]
    public static Task<PreparedData> PrepareData([ActivityTrigger] PrepareDataInput input, string instanceId, FunctionContext function) =>
        Activity<PrepareDataActivity>(function).RunAsync(Context(PipelineNames.PrepareData, instanceId), input);

    [Function(PipelineNames.StartTraining)]
    public static Task<TrainingJob> StartTraining([ActivityTrigger] StartTrainingInput input, string instanceId, FunctionContext function) =>
        Activity<StartTrainingActivity>(function).RunAsync(Context(PipelineNames.StartTraining, instanceId), input);

    [Function(PipelineNames.GetTrainingStatus)]
    public static Task<TrainingStatus> GetTrainingStatus([ActivityTrigger] TrainingJob input, string instanceId, FunctionContext function) =>
        Activity<GetTrainingStatusActivity>(function).RunAsync(Context(PipelineNames.GetTrainingStatus, instanceId), input);

    [Function(PipelineNames.StopTraining)]
    public static Task<bool> StopTraining([ActivityTrigger] TrainingJob input, string instanceId, FunctionContext function) =>
        Activity<StopTrainingActivity>(function).RunAsync(Context(PipelineNames.StopTraining, instanceId), input);

    [Function(PipelineNames.Evaluate)]
    public static Task<FamilyResult> Evaluate([ActivityTrigger] EvaluateInput input, string instanceId, FunctionContext function) =>
        Activity<EvaluateActivity>(function).RunAsync(Context(PipelineNames.Evaluate, instanceId), input);

    [Function(PipelineNames.Gate)]
    public static Task<GateDecision> Gate([ActivityTrigger] GateInput input, string instanceId, FunctionContext function) =>
        Activity<GateActivity>(function).RunAsync(Context(PipelineNames.Gate, instanceId), input);

    [Function(PipelineNames.Deploy)]
    public static Task<Deployment> Deploy([ActivityTrigger] DeployInput input, string instanceId, FunctionContext function) =>
        Activity<DeployActivity>(function).RunAsync(Context(PipelineNames.Deploy, instanceId), input);

    static T Activity<T>(FunctionContext function) where T : class =>
        ActivatorUtilities.CreateInstance<T>(function.InstanceServices);

    static TaskActivityContext Context(string name, string instanceId) => new FunctionActivityContext(name, instanceId);

    sealed class FunctionActivityContext(TaskName name, string instanceId) : TaskActivityContext
    {
        public override TaskName Name { get; } = name;
        public override string InstanceId { get; } = instanceId;
    }
}
