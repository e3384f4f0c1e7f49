// The Event Grid subscription that feeds the Functions blob trigger (Source = EventGrid) with blob-created
// events under datasets/. It cannot be part of main.bicep: its webhook carries the app's blobs_extension system
// key, which the Functions host creates only when it first loads the deployed blob trigger, and Event Grid
// validates the webhook when the subscription is created, which only the deployed extension answers. So azd
// deploys it after the code (azure.yaml postdeploy); the key is read inside the deployment and never passes
// through a script or a log.
param functionAppName string
param systemTopicName string
param artifactsContainer string
@description('The blob trigger function (ServerlessTune.Functions DatasetTrigger).')
param functionName string = 'DatasetTrigger'
@description('The blob path prefix the trigger watches inside the container.')
param pathPrefix string = 'datasets/'

resource app 'Microsoft.Web/sites@2025-03-01' existing = {
  name: functionAppName
}

// The host's keys (Web Apps - List Host Keys); sites/host is not a typed resource, hence the function form.
var blobsExtensionKey = listKeys('${app.id}/host/default', '2025-03-01').systemKeys.blobs_extension

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource datasets 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: systemTopic
  name: 'datasets'
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: 'https://${app.properties.defaultHostName}/runtime/webhooks/blobs?functionName=Host.Functions.${functionName}&code=${blobsExtensionKey}'
      }
    }
    filter: {
      includedEventTypes: ['Microsoft.Storage.BlobCreated']
      subjectBeginsWith: '/blobServices/default/containers/${artifactsContainer}/blobs/${pathPrefix}'
    }
    eventDeliverySchema: 'EventGridSchema'
  }
}
