// The serving Container App: `stune serve` over the artifact store, the OpenAI-compatible endpoint of the
// registry's aliases. Scales to zero between requests; GPU or CPU by parameter.
import { resourceTags, servingProfileType, sizes, profileNames, roles } from 'types.bicep'

param name string
param location string
param tags resourceTags
@description('The azure.yaml service azd deploys to this resource (its azd-service-name tag).')
param serviceName string
param environmentId string
param image string
param profile servingProfileType
param maxReplicas int
param registryName string
param storageAccountName string
param artifactsContainer string
param blobEndpoint string
@description('Application Insights, where the app exports its serving counters (OpenTelemetry) with its identity.')
param insightsName string
@description('The registry project served by default; empty to serve every project by name.')
param project string
@secure()
@description('The key clients present (Authorization: Bearer or api-key); the app refuses to start off loopback without one.')
param apiKey string

var port = 8080

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

resource insights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: insightsName
}

resource app 'Microsoft.App/containerApps@2025-07-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  identity: { type: 'SystemAssigned' }
  properties: {
    environmentId: environmentId
    workloadProfileName: profileNames[profile]
    configuration: {
      ingress: { external: true, targetPort: port, transport: 'auto', allowInsecure: false }
      registries: [{ server: registry.properties.loginServer, identity: 'system' }]
      // The client key is not something an identity can replace: it is what callers present.
      secrets: [{ name: 'api-key', value: apiKey }]
    }
    template: {
      containers: [
        {
          name: 'serving'
          image: image
          env: concat(
            [
              { name: 'STUNE_STORAGE__blobServiceUri', value: blobEndpoint }
              { name: 'STUNE_CONTAINER', value: artifactsContainer }
              { name: 'STUNE_API_KEY', secretRef: 'api-key' }
              { name: 'PORT', value: string(port) }
              { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
              { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD' }
            ],
            empty(project) ? [] : [{ name: 'STUNE_PROJECT', value: project }]
          )
          resources: { cpu: json(sizes[profile].cpu), memory: sizes[profile].memory }
        }
      ]
      scale: {
        minReplicas: 0
        maxReplicas: maxReplicas
        rules: [{ name: 'http', http: { metadata: { concurrentRequests: '16' } } }]
      }
    }
  }
}

resource pull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, app.id, roles.acrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPull)
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// Reads the registry and model versions, writes conversations/ and feedback/: the artifacts container only.
resource artifactsAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobs::artifacts.id, app.id, roles.storageBlobDataContributor)
  scope: storage::blobs::artifacts
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// The resource takes Entra ID tokens only (local auth off): the exporter signs in as the app.
resource telemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, app.id, roles.monitoringMetricsPublisher)
  scope: insights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

output name string = app.name
output url string = 'https://${app.properties.configuration.ingress.fqdn}'
