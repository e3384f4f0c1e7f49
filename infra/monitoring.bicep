// Log Analytics (Container Apps logs) and Application Insights (Functions telemetry and the serving app's counters, identity only).
import { resourceTags } from 'types.bicep'

param workspaceName string
param insightsName string
param location string
param tags resourceTags

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-07-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: { sku: { name: 'PerGB2018' }, retentionInDays: 30 }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: insightsName
  location: location
  tags: tags
  kind: 'web'
  // Local (instrumentation key) ingestion off: senders authenticate with Entra ID (Monitoring Metrics Publisher).
  properties: { Application_Type: 'web', WorkspaceResourceId: workspace.id, DisableLocalAuth: true }
}

output workspaceId string = workspace.id
output insightsConnectionString string = insights.properties.ConnectionString
