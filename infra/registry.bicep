// The registry azd builds the job and serving images in (docker.remoteBuild: no local Docker needed).
import { resourceTags } from 'types.bicep'

param name string
param location string
param tags resourceTags

// No admin user and no anonymous pull: the apps pull with their managed identities (AcrPull).
resource registry 'Microsoft.ContainerRegistry/registries@2025-04-01' = {
  name: name
  location: location
  tags: tags
  sku: { name: 'Basic' }
  properties: { adminUserEnabled: false, anonymousPullEnabled: false }
}

output name string = registry.name
output loginServer string = registry.properties.loginServer
