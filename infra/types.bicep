// Shapes shared by the modules, so each module declares what it takes instead of 'object'.

@export()
@description('Resource tags: azd-env-name on everything, azd-service-name on what azd deploys to.')
type resourceTags = { *: string }

@export()
@description('GPU workload profiles of Azure Container Apps serverless GPUs (one replica each).')
type gpuProfileType = 'Consumption-GPU-NC8as-T4' | 'Consumption-GPU-NC24-A100'

@export()
@description('Where the serving app runs: the CPU consumption profile or a serverless GPU profile.')
type servingProfileType = 'Consumption' | gpuProfileType

@export()
@description('CPU cores and memory one replica gets.')
type containerSize = { cpu: string, memory: string }

@export()
@description('The size of one replica on each profile: a serverless GPU replica gets the whole GPU share of the node; on the CPU profile, 2 cores and 4 GiB (cores and GiB must be in a 1:2 ratio).')
var sizes = {
  Consumption: { cpu: '2', memory: '4Gi' }
  'Consumption-GPU-NC8as-T4': { cpu: '8', memory: '56Gi' }
  'Consumption-GPU-NC24-A100': { cpu: '24', memory: '220Gi' }
}

@export()
@description('The workload profile name each profile type gets in the Container Apps environment.')
var profileNames = {
  Consumption: 'Consumption'
  'Consumption-GPU-NC8as-T4': 'gpu-t4'
  'Consumption-GPU-NC24-A100': 'gpu-a100'
}

@export()
@description('Built-in role definition ids (Azure RBAC built-in roles reference).')
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  cognitiveServicesOpenAIContributor: 'a001fd3d-188f-4b5d-821b-7da978bf7442'
  cognitiveServicesContributor: '25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
}
