// Optional: the Azure OpenAI account for hosted fine-tuning of GPT-family models (main.bicep's
// hostedFineTuning). Entra ID only; the Functions app's identity gets the two roles the hosted path needs.
import { resourceTags, roles } from 'types.bicep'

param name string
param location string
param tags resourceTags
param principalId string
@description('The resource id of the identity holder, to name its role assignments (its principal id is known only at deployment).')
param principalResourceId string

resource account 'Microsoft.CognitiveServices/accounts@2025-06-01' = {
  name: name
  location: location
  tags: tags
  kind: 'OpenAI'
  sku: { name: 'S0' }
  properties: {
    // A custom subdomain is what Entra ID tokens are issued for; keys are off.
    customSubDomainName: name
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

// Fine-tuning jobs and training files (data plane), and model deployments (created through ARM on the account).
var accountRoles = [
  roles.cognitiveServicesOpenAIContributor
  roles.cognitiveServicesContributor
]

resource access 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in accountRoles: {
    name: guid(account.id, principalResourceId, role)
    scope: account
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

output endpoint string = account.properties.endpoint
