using Azure.Identity;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ServerlessTune.Azure.Hosted;
using ServerlessTune.Azure.Jobs;
using ServerlessTune.Azure.Storage;
using ServerlessTune.Functions;
using ServerlessTune.Functions.FrontDoor;
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
ServingForwarder.AddTo(builder.Services, options.FrontDoor);
builder.Build().Run();
