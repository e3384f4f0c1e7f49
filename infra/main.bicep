// ServerlessTune on Azure (azd up): artifact storage, the Functions app (Flex Consumption) that runs
// the durable pipeline, the GPU Container Apps job that trains, and monitoring.
targetScope = 'resourceGroup'

@description('azd environment name; names every resource.')
param environmentName string
param location string = resourceGroup().location
@description('Trainer image (ServerlessTune.Trainer, CUDA build), e.g. myregistry.azurecr.io/stune-trainer:1.0.')
param trainerImage string
@description('GPU workload profile type for the training job.')
param gpuProfileType string = 'Consumption-GPU-NC8as-T4'

var token = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var artifactsContainer = 'artifacts'
var tags = { 'azd-env-name': environmentName }

module monitoring 'monitoring.bicep' = {
  name: 'monitoring'
  params: { name: 'stune-${token}', location: location, tags: tags }
}

module storage 'storage.bicep' = {
  name: 'storage'
  params: { name: 'stune${token}', location: location, tags: tags, containers: [artifactsContainer, 'deployments'] }
}

module trainer 'trainer-job.bicep' = {
  name: 'trainer'
  params: {
    name: 'stune-trainer-${token}'
    location: location
    tags: tags
    image: trainerImage
    gpuProfileType: gpuProfileType
    logAnalyticsWorkspaceName: monitoring.outputs.workspaceName
    storageAccountName: storage.outputs.name
    artifactsUrl: '${storage.outputs.blobEndpoint}${artifactsContainer}'
  }
}

module functions 'function-app.bicep' = {
  name: 'functions'
  params: {
    name: 'stune-func-${token}'
    location: location
    tags: union(tags, { 'azd-service-name': 'functions' })
    storageAccountName: storage.outputs.name
    artifactsContainer: artifactsContainer
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    trainerJobName: trainer.outputs.name
    trainerContainerName: trainer.outputs.containerName
    trainerImage: trainerImage
    artifactsUrl: '${storage.outputs.blobEndpoint}${artifactsContainer}'
  }
}

output AZURE_FUNCTION_APP_NAME string = functions.outputs.name
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_SYSTEM_TOPIC_NAME string = storage.outputs.systemTopicName
output STUNE_CONTAINER string = artifactsContainer
