param name string
param location string
param tags object
param storageAccountName string
param artifactsContainer string
param applicationInsightsConnectionString string
param trainerJobName string
param trainerContainerName string
param trainerImage string
param artifactsUrl string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource trainerJob 'Microsoft.App/jobs@2024-03-01' existing = {
  name: trainerJobName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: '${name}-plan'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}deployments'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      scaleAndConcurrency: { maximumInstanceCount: 40, instanceMemoryMB: 2048 }
      runtime: { name: 'dotnet-isolated', version: '10.0' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: [
        { name: 'AzureWebJobsStorage__accountName', value: storage.name }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'STUNE_STORAGE__blobServiceUri', value: storage.properties.primaryEndpoints.blob }
        { name: 'STUNE_STORAGE__queueServiceUri', value: storage.properties.primaryEndpoints.queue }
        { name: 'STUNE_STORAGE__tableServiceUri', value: storage.properties.primaryEndpoints.table }
        { name: 'STUNE_STORAGE__credential', value: 'managedidentity' }
        { name: 'STUNE_CONTAINER', value: artifactsContainer }
        { name: 'STUNE_JOB_SUBSCRIPTION_ID', value: subscription().subscriptionId }
        { name: 'STUNE_JOB_RESOURCE_GROUP', value: resourceGroup().name }
        { name: 'STUNE_JOB_NAME', value: trainerJobName }
        { name: 'STUNE_JOB_CONTAINER', value: trainerContainerName }
        { name: 'STUNE_JOB_IMAGE', value: trainerImage }
        { name: 'STUNE_JOB_STORE', value: artifactsUrl }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsightsConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD' }
      ]
    }
  }
}

// Blob data (artifacts, deployment package), queues and tables (Durable Task hub, blob trigger).
var storageRoles = [
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
]

resource storageAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in storageRoles: {
  name: guid(storage.id, app.id, role)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
  }
}]

// Starting and stopping executions of the training job, and nothing else in the resource group.
resource jobAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(trainerJob.id, app.id, 'contributor')
  scope: trainerJob
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'b24988ac-6180-42a0-ab88-20f3382be4e4')
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

output name string = app.name
