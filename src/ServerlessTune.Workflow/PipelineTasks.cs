using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Storage;
using ServerlessTune.Pipeline.Activities;
using ServerlessTune.Pipeline.Models;
using ServerlessTune.Pipeline.Steps;
using ServerlessTune.Pipeline.Training;

namespace ServerlessTune.Pipeline.Orchestration;

/// <summary>The orchestrator, its activities and the services they need, registered the same way by every host.</summary>
public static class PipelineTasks
{
    // One client per process: sockets are pooled and DNS changes are picked up.
    static readonly HttpClient SharedHttp = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>Activity classes by name.</summary>
    public static readonly IReadOnlyDictionary<string, Type> Activities = new Dictionary<string, Type>
    {
        [PipelineNames.ResolveBaseModel] = typeof(ResolveBaseModelActivity),
        [PipelineNames.PrepareData] = typeof(PrepareDataActivity),
        [PipelineNames.StartTraining] = typeof(StartTrainingActivity),
        [PipelineNames.GetTrainingStatus] = typeof(GetTrainingStatusActivity),
        [PipelineNames.StopTraining] = typeof(StopTrainingActivity),
        [PipelineNames.Evaluate] = typeof(EvaluateActivity),
        [PipelineNames.Gate] = typeof(GateActivity),
        [PipelineNames.Deploy] = typeof(DeployActivity),
    };

    /// <param name="replacements">Activities registered instead of (or in addition to) the built-in ones, by name.</param>
    public static void Register(DurableTaskRegistry registry, IReadOnlyDictionary<string, Type>? replacements = null)
    {
        registry.AddOrchestrator<FineTunePipeline>();
        var activities = new Dictionary<string, Type>(Activities);
        foreach (var (name, type) in replacements ?? new Dictionary<string, Type>())
            activities[name] = type;
        foreach (var (name, type) in activities)
            registry.AddActivity(name, type);
    }

    public static IServiceCollection AddPipelineServices(this IServiceCollection services, IArtifactStore store, IJobLauncher launcher) =>
        services
            .AddSingleton(store)
            .AddSingleton(launcher)
            .AddSingleton<ModelRegistry>()
            .AddSingleton<TrainingJobs>()
            .AddSingleton<PrepareStep>()
            .AddSingleton(new BaseModelStep(store, SharedHttp))
            .AddSingleton<EvaluateStep>()
            .AddSingleton<GateStep>()
            .AddSingleton<DeployStep>();
}
