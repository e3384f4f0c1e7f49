// The Flex Consumption Functions app: the durable pipeline (orchestrator, PrepareData, Gate, Deploy), the
// dataset blob trigger and the HTTP API. Everything it reaches, it reaches with its system-assigned identity.
import { resourceTags, roles } from 'types.bicep'

param name string
param location string
param tags resourceTags
@description('The azure.yaml service azd deploys to this resource (its azd-service-name tag).')
param serviceName string
param storageAccountName string
param blobEndpoint string
param queueEndpoint string
param tableEndpoint string
param artifactsContainer string
param deploymentContainer string
param insightsName string
param trainerJobName string
@description('The Azure OpenAI account for hosted fine-tuning; empty when that path is off.')
param openAiEndpoint string
@description('That account\'s resource id, through which the hosted path makes model deployments; empty when the path is off.')
param openAiAccountId string
@description('The serving Container App the public /api/v1 endpoint forwards to.')
param servingUrl string
@description('The Key Vault holding the front door\'s keys (keyvault.bicep); read through Key Vault references with the app\'s identity.')
param vaultName string
@description('NCRONTAB schedule of the retrain timer (STUNE_RETRAIN_SCHEDULE).')
param retrainSchedule string

resource storage 'Microsoft.Storage/storageAccounts@2025-08-01' existing = {
  name: storageAccountName
}

resource insights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: insightsName
}

resource trainerJob 'Microsoft.App/jobs@2025-07-01' existing = {
  name: trainerJobName
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: '${name}-plan'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}${deploymentContainer}'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      scaleAndConcurrency: { maximumInstanceCount: 40, instanceMemoryMB: 2048 }
      runtime: { name: 'dotnet-isolated', version: '10.0' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: concat(
        [
          // The host's own storage (keys, leases, timers), by identity.
          { name: 'AzureWebJobsStorage__accountName', value: storage.name }
          { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
          // STUNE_STORAGE is the connection of the blob trigger, the Durable task hub (host.json) and the
          // artifact store: the blob trigger needs blob and queue, the task hub blob, queue and table.
          { name: 'STUNE_STORAGE__blobServiceUri', value: blobEndpoint }
          { name: 'STUNE_STORAGE__queueServiceUri', value: queueEndpoint }
          { name: 'STUNE_STORAGE__tableServiceUri', value: tableEndpoint }
          { name: 'STUNE_STORAGE__credential', value: 'managedidentity' }
          { name: 'STUNE_CONTAINER', value: artifactsContainer }
          { name: 'STUNE_JOB_SUBSCRIPTION_ID', value: subscription().subscriptionId }
          { name: 'STUNE_JOB_RESOURCE_GROUP', value: resourceGroup().name }
          { name: 'STUNE_JOB_NAME', value: trainerJob.name }
          { name: 'STUNE_SERVING_URL', value: servingUrl }
          { name: 'STUNE_API_KEY', value: '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=front-door-api-key)' }
          { name: 'STUNE_SERVING_API_KEY', value: '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=serving-api-key)' }
          { name: 'STUNE_RETRAIN_SCHEDULE', value: retrainSchedule }
          // Not a secret (an ingestion endpoint and resource id); with local auth off, telemetry is sent
          // with the app's identity.
          { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
          { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD' }
        ],
        // The SDK's name; no AZURE_OPENAI_API_KEY: the account takes Entra ID only.
        empty(openAiEndpoint) ? [] : [
          { name: 'AZURE_OPENAI_ENDPOINT', value: openAiEndpoint }
          { name: 'STUNE_OPENAI_ACCOUNT_ID', value: openAiAccountId }
        ]
      )
    }
  }
}

// The host's storage and the task hub create blobs, queues and tables of their own names, so these are
// granted on the account; Blob Data Owner is what the Functions host documents for AzureWebJobsStorage.
var storageRoles = [
  roles.storageBlobDataOwner
  roles.storageQueueDataContributor
  roles.storageTableDataContributor
]

resource storageAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in storageRoles: {
    name: guid(storage.id, app.id, role)
    scope: storage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
      principalId: app.identity.principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource telemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, app.id, roles.monitoringMetricsPublisher)
  scope: insights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// What ContainerAppsJobLauncher calls on the job, and nothing more: read the job's template, start an
// execution, read it, stop it. No wildcard: Microsoft.App/jobs/*/action would include listSecrets.
resource jobOperator 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'serverlesstune-job-operator')
  properties: {
    roleName: 'ServerlessTune job operator ${uniqueString(resourceGroup().id)}'
    description: 'Start, follow and stop executions of the ServerlessTune training and evaluation job.'
    type: 'CustomRole'
    assignableScopes: [resourceGroup().id]
    permissions: [
      {
        actions: [
          'Microsoft.App/jobs/read'
          'Microsoft.App/jobs/start/action'
          'Microsoft.App/jobs/execution/read'
          'Microsoft.App/jobs/executions/read'
          'Microsoft.App/jobs/stop/execution/action'
          'Microsoft.App/jobs/stop/action'
        ]
        notActions: []
      }
    ]
  }
}

resource jobAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(trainerJob.id, app.id, jobOperator.id)
  scope: trainerJob
  properties: {
    roleDefinitionId: jobOperator.id
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

output name string = app.name
output id string = app.id
output principalId string = app.identity.principalId
