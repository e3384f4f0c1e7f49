// The keys of the public serving endpoint, for the Functions app to read through Key Vault references: clients of an
// OpenAI-compatible API send a key, so these cannot be replaced by a managed identity. RBAC only, no access policies.
import { resourceTags, roles } from 'types.bicep'

param name string
param location string
param tags resourceTags
@secure()
@description('The key clients present at the Functions front door (STUNE_API_KEY).')
param frontDoorApiKey string
@secure()
@description('The key the front door presents to the serving app (its STUNE_API_KEY).')
param servingApiKey string
param principalId string
@description('The resource id of the identity holder, to name its role assignment (its principal id is known only at deployment).')
param principalResourceId string

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Enabled'
  }
}

resource frontDoorKey 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = {
  parent: vault
  name: 'front-door-api-key'
  properties: { value: frontDoorApiKey }
}

resource servingKey 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = {
  parent: vault
  name: 'serving-api-key'
  properties: { value: servingApiKey }
}

resource reader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalResourceId, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
