// azd exports main.bicep's outputs as environment variables to the postdeploy hook that deploys this.
using 'dataset-events.bicep'

param functionAppName = readEnvironmentVariable('AZURE_FUNCTION_APP_NAME')
param systemTopicName = readEnvironmentVariable('AZURE_STORAGE_SYSTEM_TOPIC_NAME')
param artifactsContainer = readEnvironmentVariable('STUNE_CONTAINER')
