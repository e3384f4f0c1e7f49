using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using ServerlessTune.Core.Hosted;
using ServerlessTune.Core.Jobs;
using ServerlessTune.Core.Registry;
using ServerlessTune.Core.Storage;
using ServerlessTune.Workflow.Jobs;
using ServerlessTune.Workflow.Steps;

namespace ServerlessTune.Workflow;

/// <summary>
/// The orchestrator, its activities and the services they need, registered the same way by every host that
/// embeds the Durable Task worker. An activity is one line: its name and the step method it runs. (The Functions
/// app registers the same methods through its own triggers, one per name: PipelineFunctions.)
/// </summary>
public static class PipelineTasks
{
    // One client per process: sockets are pooled and DNS changes are picked up.
    static readonly HttpClient SharedHttp = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>Every activity by name, as a factory over the host's services.</summary>
    public static readonly IReadOnlyDictionary<string, Func<IServiceProvider, ITaskActivity>> Activities =
        new Dictionary<string, Func<IServiceProvider, ITaskActivity>>
        {
            [PipelineNames.ResolveBaseModel] = Activity<ResolveBaseModelStep, string, string>((step, spec) => step.ResolveAsync(spec)),
            [PipelineNames.PrepareData] = Activity<PrepareStep, PrepareDataInput, PreparedData>((step, input) => step.RunAsync(input)),
            [PipelineNames.StartTraining] = Activity<TrainStep, TrainInput, JobHandle>((step, input) => step.StartAsync(input)),
            [PipelineNames.StartEvaluation] = Activity<EvaluateStep, EvaluateInput, JobHandle>((step, input) => step.StartAsync(input)),
            [PipelineNames.EvaluateHosted] = Activity<EvaluateStep, EvaluateInput, object?>(async (step, input) => { await step.EvaluateHostedAsync(input); return null; }),
            [PipelineNames.GetJobStatus] = Activity<RunJobs, JobHandle, JobProgress>((jobs, job) => jobs.GetStatusAsync(job)),
            [PipelineNames.StopJob] = Activity<RunJobs, JobHandle, object?>(async (jobs, job) => { await jobs.StopAsync(job); return null; }),
            [PipelineNames.Gate] = Activity<GateStep, GateInput, GatedCandidate>((step, input) => step.RunAsync(input)),
            [PipelineNames.Deploy] = Activity<DeployStep, DeployInput, Deployment>((step, input) => step.RunAsync(input)),
            [PipelineNames.WriteDashboard] = Activity<DashboardStep, DashboardInput, string>((step, input) => step.RunAsync(input)),
        };

    /// <param name="replacements">Activity classes registered instead of the built-in ones, by name (tests inject faults this way).</param>
    public static void Register(DurableTaskRegistry registry, IReadOnlyDictionary<string, Type>? replacements = null)
    {
        registry.AddOrchestrator<FineTunePipeline>();
        foreach (var (name, activity) in Activities)
        {
            if (replacements?.GetValueOrDefault(name) is { } type) registry.AddActivity(name, type);
            else registry.AddActivity(name, activity);
        }
    }

    /// <param name="launcher">Runs the job container (training and evaluation of open models).</param>
    /// <param name="hosted">The hosted fine-tuning services for azure-openai:/openai: bases; null where the host has none.</param>
    public static IServiceCollection AddPipelineServices(this IServiceCollection services, IArtifactStore store, IJobLauncher launcher,
        IHostedModels? hosted = null)
    {
        var registry = new ModelRegistry(store);
        var jobs = new RunJobs(store, JobLaunchers.For(launcher, hosted));
        return services
            .AddSingleton(store)
            .AddSingleton(registry)
            .AddSingleton(jobs)
            .AddSingleton(new ResolveBaseModelStep(store, SharedHttp, hosted))
            .AddSingleton<PrepareStep>()
            .AddSingleton<TrainStep>()
            .AddSingleton(new EvaluateStep(store, registry, jobs, hosted))
            .AddSingleton<GateStep>()
            .AddSingleton(new DeployStep(store, registry, hosted))
            .AddSingleton<DashboardStep>();
    }

    static Func<IServiceProvider, ITaskActivity> Activity<TService, TInput, TOutput>(Func<TService, TInput, Task<TOutput>> run)
        where TService : notnull =>
        services => new StepActivity<TInput, TOutput>(input => run(services.GetRequiredService<TService>(), input));

    sealed class StepActivity<TInput, TOutput>(Func<TInput, Task<TOutput>> run) : TaskActivity<TInput, TOutput>
    {
        public override Task<TOutput> RunAsync(TaskActivityContext context, TInput input) => run(input);
    }
}
