using Azure.Identity;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ServerlessTune.Azure.Hosted;
using ServerlessTune.Azure.Jobs;
using ServerlessTune.Azure.Monitoring;
using ServerlessTune.Azure.Storage;
using ServerlessTune.Functions;
using ServerlessTune.Functions.FrontDoor;
using ServerlessTune.Serving.Hosted;
using ServerlessTune.Serving.Logging;
using ServerlessTune.Workflow;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services.Configure<WorkerOptions>(FunctionsJson.Configure);
var options = FunctionAppOptions.From(builder.Configuration);

var credential = new DefaultAzureCredential();
var artifacts = options.ArtifactContainer(credential);
var store = new BlobArtifactStore(artifacts);
builder.Services.AddPipelineServices(store, new ContainerAppsJobLauncher(new HttpClient(), credential, options.Job(artifacts)),
    new HostedModels(store, options.Hosted, credential));
// Azure OpenAI without a key: the app's identity ("Cognitive Services OpenAI User" on the account covers inference).
var frontDoor = options.FrontDoor with
{
    Hosted = options.FrontDoor.Hosted with { AzureToken = new EntraTokenSource(credential, HostedUpstreams.AzureScope).GetAsync },
};
ServingForwarder.AddTo(builder.Services, frontDoor, store);
// The answers of hosted models the front door forwards are counted like the serving app's, and exported alike.
AzureMonitorMetrics.FromEnvironment(Environment.GetEnvironmentVariable, ServingMetrics.MeterName)?.Invoke(builder.Services);
builder.Build().Run();
