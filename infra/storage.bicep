param name string
param location string
param tags object
param containers array

// Identity only: no account keys, so no connection string can leak from settings or logs.
resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource blobContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for container in containers: {
  parent: blobs
  name: container
}]

// Blob-created events for the Flex Consumption blob trigger; the subscription to the function's webhook
// is added after deployment (azure.yaml postdeploy), when the blobs_extension key exists.
resource systemTopic 'Microsoft.EventGrid/systemTopics@2024-06-01-preview' = {
  name: '${name}-events'
  location: location
  tags: tags
  properties: { source: account.id, topicType: 'Microsoft.Storage.StorageAccounts' }
}

output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output systemTopicName string = systemTopic.name
