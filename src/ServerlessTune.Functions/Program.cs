using Azure.Identity;
using Azure.Storage.Blobs;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ServerlessTune.Core.Storage;
using ServerlessTune.Functions;
using ServerlessTune.Pipeline.Orchestration;
using ServerlessTune.Pipeline.Storage;
using ServerlessTune.Pipeline.Training;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
var settings = FunctionSettings.From(builder.Configuration);

// Artifacts: a connection string (Azurite, keys) or the account URL with the app's managed identity.
var container = settings.StorageConnection is { } connection
    ? new BlobContainerClient(connection, settings.Container)
    : new BlobContainerClient(new Uri(settings.StorageAccountUrl!, settings.Container), new DefaultAzureCredential());
builder.Services.AddPipelineServices(new BlobArtifactStore(container), new ContainerAppsJobLauncher(
    new HttpClient(), new DefaultAzureCredential(), settings.TrainingJob));
builder.Build().Run();
