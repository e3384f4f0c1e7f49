// The GPU Container Apps job that runs `stune-trainer`: training and model evaluation, one image. The pipeline
// starts one execution per run and job kind (ARM jobs/start: the training job, then the evaluation job);
// ContainerAppsJobLauncher copies this template's container (image, resources, environment) into the start
// request and adds that job's arguments (its spec path, which names the kind, and the store), so this file is
// the one place that sizes both kinds.
import { resourceTags, gpuProfileType, sizes, profileNames, roles } from 'types.bicep'

param name string
param location string
param tags resourceTags
@description('The azure.yaml service azd deploys to this resource (its azd-service-name tag).')
param serviceName string
param environmentId string
param image string
param gpuProfile gpuProfileType
param registryName string
param storageAccountName string
param artifactsContainer string

resource registry 'Microsoft.ContainerRegistry/registries@2025-04-01' existing = {
  name: registryName
}

resource storage 'Microsoft.Storage/storageAccounts@2025-08-01' existing = {
  name: storageAccountName

  resource blobs 'blobServices' existing = {
    name: 'default'

    resource artifacts 'containers' existing = {
      name: artifactsContainer
    }
  }
}

resource job 'Microsoft.App/jobs@2025-07-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  identity: { type: 'SystemAssigned' }
  properties: {
    environmentId: environmentId
    workloadProfileName: profileNames[gpuProfile]
    configuration: {
      triggerType: 'Manual'
      // Twelve hours for a run; a failed replica is retried once and resumes from its last checkpoint.
      replicaTimeout: 43200
      replicaRetryLimit: 1
      manualTriggerConfig: { parallelism: 1, replicaCompletionCount: 1 }
      registries: [{ server: registry.properties.loginServer, identity: 'system' }]
    }
    template: {
      containers: [
        {
          name: 'trainer'
          image: image
          // The store and the spec come as arguments with each start; the job's identity opens the store.
          env: []
          resources: { cpu: json(sizes[gpuProfile].cpu), memory: sizes[gpuProfile].memory }
        }
      ]
    }
  }
}

resource pull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, job.id, roles.acrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPull)
    principalId: job.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// Reads datasets and base models, writes checkpoints, adapters, metrics and evaluation results: the artifacts
// container only.
resource artifactsAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobs::artifacts.id, job.id, roles.storageBlobDataContributor)
  scope: storage::blobs::artifacts
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: job.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

output name string = job.name
