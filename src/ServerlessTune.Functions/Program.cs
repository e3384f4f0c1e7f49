using Azure.Identity;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using ServerlessTune.Functions;
using ServerlessTune.Pipeline.Orchestration;
using ServerlessTune.Pipeline.Storage;
using ServerlessTune.Pipeline.Training;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
var settings = FunctionSettings.From(builder.Configuration);

var credential = new DefaultAzureCredential();
var artifacts = settings.ArtifactContainer(credential);
builder.Services.AddPipelineServices(new BlobArtifactStore(artifacts),
    new ContainerAppsJobLauncher(new HttpClient(), credential, settings.TrainingJob(artifacts)));
builder.Build().Run();
