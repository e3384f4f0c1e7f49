// The Container Apps environment the GPU job and the serving app share, with the workload profiles they use.
import { resourceTags, gpuProfileType, profileNames } from 'types.bicep'

param name string
param location string
param tags resourceTags
param logAnalyticsWorkspaceId string
@description('GPU profile types to offer besides the CPU consumption profile.')
param gpuProfiles gpuProfileType[]

// Logs go to Azure Monitor and from there to the workspace through a diagnostic setting, so the environment
// needs no workspace shared key.
resource environment 'Microsoft.App/managedEnvironments@2025-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: { destination: 'azure-monitor' }
    workloadProfiles: concat(
      [{ name: 'Consumption', workloadProfileType: 'Consumption' }],
      map(union(gpuProfiles, []), type => { name: profileNames[type], workloadProfileType: type })
    )
  }
}

resource logs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs'
  scope: environment
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
  }
}

output id string = environment.id
output name string = environment.name
