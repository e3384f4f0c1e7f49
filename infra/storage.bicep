// The artifact account: datasets, prepared data, runs, reports, registry, conversations and feedback in one
// container; the Functions deployment package in another; the Durable task hub's queues and tables beside.
import { resourceTags } from 'types.bicep'

param name string
param location string
param tags resourceTags
param artifactsContainer string
param deploymentContainer string
@description('The storage endpoint suffix of the cloud (core.windows.net in public Azure).')
param endpointSuffix string

// Identity only: nothing in the product signs with an account key (the Functions host, its Flex deployment
// container, the Durable task hub, the blob trigger, the job and the serving app all use Entra ID), so shared
// key access is off and no connection string exists to leak from settings or logs.
resource account 'Microsoft.Storage/storageAccounts@2025-08-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2025-08-01' = {
  parent: account
  name: 'default'
}

resource artifacts 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-08-01' = {
  parent: blobs
  name: artifactsContainer
}

resource deployments 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-08-01' = {
  parent: blobs
  name: deploymentContainer
}

// Blob-created events for the Functions blob trigger (Event Grid source; Flex Consumption has no polling
// trigger). The subscription to the function's webhook is dataset-events.bicep, deployed after the code.
resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: '${name}-events'
  location: location
  tags: tags
  properties: { source: account.id, topicType: 'Microsoft.Storage.StorageAccounts' }
}

output name string = account.name
// Built from the name, so the endpoints are known before the account exists (and in the tests' snapshot).
output blobEndpoint string = 'https://${account.name}.blob.${endpointSuffix}/'
output queueEndpoint string = 'https://${account.name}.queue.${endpointSuffix}/'
output tableEndpoint string = 'https://${account.name}.table.${endpointSuffix}/'
output artifactsContainerName string = artifacts.name
output deploymentContainerName string = deployments.name
output systemTopicName string = systemTopic.name
