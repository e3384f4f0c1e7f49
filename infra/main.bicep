// ServerlessTune on Azure (azd up): artifact storage with blob events, the Flex Consumption Functions app
// that runs the durable pipeline, the GPU Container Apps job that trains and evaluates, the serving Container
// App, the registry azd builds the images in, monitoring, and optionally Azure OpenAI for hosted fine-tuning.
// dataset-events.bicep (the Event Grid subscription) is deployed after the code: see azure.yaml.
targetScope = 'resourceGroup'

import { gpuProfileType, servingProfileType } from 'types.bicep'

@description('azd environment name; names every resource.')
param environmentName string
param location string = resourceGroup().location
@description('The trainer image azd built (SERVICE_TRAINER_IMAGE_NAME); empty on the first provision, before azd has built it.')
param trainerImage string = ''
@description('The serving image azd built (SERVICE_SERVING_IMAGE_NAME); empty on the first provision.')
param servingImage string = ''
@description('GPU workload profile of the training and evaluation job (needs GPU quota in the region).')
param gpuProfile gpuProfileType = 'Consumption-GPU-NC8as-T4'
@description('Workload profile of the serving app: Consumption (CPU) or a GPU profile.')
param servingProfile servingProfileType = 'Consumption'
@minValue(1)
param servingMaxReplicas int = 2
@description('Registry project the serving app serves by default; empty serves every project by name.')
param servingProject string = ''
@secure()
@minLength(32)
@description('The key clients of the serving app present. azd asks for it once and keeps it in the environment.')
param servingApiKey string
@secure()
@minLength(32)
@description('The key clients present at the Functions app\'s public /api/v1 endpoint. azd asks for it once and keeps it in the environment.')
param frontDoorApiKey string
@description('NCRONTAB schedule on which the Functions app starts a run for each project with feedback.retrain_after new ratings (default: hourly).')
param retrainSchedule string = '0 0 * * * *'
@description('Create an Azure OpenAI account for hosted fine-tuning of GPT-family models.')
param hostedFineTuning bool = false
@description('Region of the Azure OpenAI account (fine-tuning is offered in some regions only).')
param openAiLocation string = location
@description('Storage endpoint suffix: the deploying cloud\'s. A parameter so that every endpoint the apps are given is a plain value before deployment.')
param storageEndpointSuffix string = environment().suffixes.storage

var token = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var tags = { 'azd-env-name': environmentName }
// Before azd has built an image, the job and the app start from a public placeholder: azd deploy replaces it.
var placeholderImage = 'mcr.microsoft.com/k8se/quickstart:latest'
var names = {
  storage: 'stune${token}'
  registry: 'stune${token}'
  environment: 'stune-env-${token}'
  job: 'stune-trainer-${token}'
  serving: 'stune-serve-${token}'
  functions: 'stune-func-${token}'
  openAi: 'stune-oai-${token}'
  vault: 'stune-kv-${token}'
  workspace: 'stune-logs-${token}'
  insights: 'stune-insights-${token}'
}
var artifactsContainer = 'artifacts'

module monitoring 'monitoring.bicep' = {
  name: 'monitoring'
  params: { workspaceName: names.workspace, insightsName: names.insights, location: location, tags: tags }
}

module storage 'storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: location
    tags: tags
    artifactsContainer: artifactsContainer
    deploymentContainer: 'deployments'
    endpointSuffix: storageEndpointSuffix
  }
}

module registry 'registry.bicep' = {
  name: 'registry'
  params: { name: names.registry, location: location, tags: tags }
}

module containerEnvironment 'container-environment.bicep' = {
  name: 'environment'
  params: {
    name: names.environment
    location: location
    tags: tags
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    gpuProfiles: servingProfile == 'Consumption' ? [gpuProfile] : [gpuProfile, servingProfile]
  }
}

module trainer 'trainer-job.bicep' = {
  name: 'trainer'
  params: {
    name: names.job
    location: location
    tags: tags
    serviceName: 'trainer'
    environmentId: containerEnvironment.outputs.id
    image: empty(trainerImage) ? placeholderImage : trainerImage
    gpuProfile: gpuProfile
    registryName: names.registry
    storageAccountName: names.storage
    artifactsContainer: artifactsContainer
  }
  dependsOn: [registry, storage]
}

module serving 'serving-app.bicep' = {
  name: 'serving'
  params: {
    name: names.serving
    location: location
    tags: tags
    serviceName: 'serving'
    environmentId: containerEnvironment.outputs.id
    image: empty(servingImage) ? placeholderImage : servingImage
    profile: servingProfile
    maxReplicas: servingMaxReplicas
    registryName: names.registry
    storageAccountName: names.storage
    artifactsContainer: artifactsContainer
    blobEndpoint: storage.outputs.blobEndpoint
    insightsName: names.insights
    project: servingProject
    apiKey: servingApiKey
  }
  dependsOn: [registry]
}

module functions 'function-app.bicep' = {
  name: 'functions'
  params: {
    name: names.functions
    location: location
    tags: tags
    serviceName: 'functions'
    storageAccountName: names.storage
    blobEndpoint: storage.outputs.blobEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    tableEndpoint: storage.outputs.tableEndpoint
    artifactsContainer: storage.outputs.artifactsContainerName
    deploymentContainer: storage.outputs.deploymentContainerName
    insightsName: names.insights
    trainerJobName: names.job
    // The account's custom subdomain decides its endpoint, so the app can be told before the account exists.
    openAiEndpoint: hostedFineTuning ? 'https://${names.openAi}.openai.azure.com/' : ''
    openAiAccountId: hostedFineTuning ? resourceId('Microsoft.CognitiveServices/accounts', names.openAi) : ''
    servingUrl: serving.outputs.url
    vaultName: names.vault
    retrainSchedule: retrainSchedule
  }
  dependsOn: [trainer]
}

module vault 'keyvault.bicep' = {
  name: 'vault'
  params: {
    name: names.vault
    location: location
    tags: tags
    frontDoorApiKey: frontDoorApiKey
    servingApiKey: servingApiKey
    principalId: functions.outputs.principalId
    principalResourceId: resourceId('Microsoft.Web/sites', names.functions)
  }
}

module openAi 'openai.bicep' = if (hostedFineTuning) {
  name: 'openai'
  params: {
    name: names.openAi
    location: openAiLocation
    tags: tags
    principalId: functions.outputs.principalId
    principalResourceId: resourceId('Microsoft.Web/sites', names.functions)
  }
}

output AZURE_FUNCTION_APP_NAME string = functions.outputs.name
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_SYSTEM_TOPIC_NAME string = storage.outputs.systemTopicName
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = registry.outputs.loginServer
output STUNE_CONTAINER string = storage.outputs.artifactsContainerName
output STUNE_SERVING_URL string = serving.outputs.url
