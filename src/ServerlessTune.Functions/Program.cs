using Azure.Identity;
using Azure.Storage.Blobs;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using ServerlessTune.Azure.Jobs;
using ServerlessTune.Azure.Storage;
using ServerlessTune.Functions;
using ServerlessTune.Functions.FrontDoor;
using ServerlessTune.Workflow;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
var options = FunctionAppOptions.From(builder.Configuration);

// Artifacts: a connection string (Azurite, keys) or the account URL with the app's managed identity.
var container = options.StorageConnection is { } connection
    ? new BlobContainerClient(connection, options.Container)
    : new BlobContainerClient(new Uri(options.StorageAccountUrl!, options.Container), new DefaultAzureCredential());
builder.Services.AddPipelineServices(new BlobArtifactStore(container), new ContainerAppsJobLauncher(
    new HttpClient(), new DefaultAzureCredential(), options.Job));
ServingForwarder.AddTo(builder.Services, options.FrontDoor);
builder.Build().Run();
