// Storage for the Functions host, the deployment package and the bridge's own data. Shared keys are off:
// everything (host, deployment, bridge code) connects with the managed identity.

@description('Name of the storage account (3-24 lowercase letters and digits).')
param name string

@description('Azure region.')
param location string

@description('Refuse every public network (with vnetEnabled: the function reaches it through a private endpoint, private-endpoints.bicep). False: public endpoint open, access by identity and RBAC only.')
param denyPublicNetworkAccess bool

@description('Tags for the resource.')
param tags object

@description('Blob container that holds the deployment package Flex Consumption runs from.')
param deploymentContainerName string

@description('Blob container of queued raw messages (BRIDGE_BLOB_CONTAINER).')
param messageContainerName string

@description('Table of message state records (BRIDGE_STATE_TABLE).')
param stateTableName string

@description('Queue of pointers to queued messages (BRIDGE_QUEUE_NAME); "<name>-poison" is created beside it.')
param queueName string

@description('The horizon in days (BRIDGE_MAX_QUEUE_AGE_MS): no message is queued longer.')
@minValue(1)
param maxQueueAgeDays int

@description('Days the body of a message that ended failed is kept (BRIDGE_RETENTION_MS).')
@minValue(1)
param retentionDays int

resource account 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: denyPublicNetworkAccess ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: denyPublicNetworkAccess ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: account
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource messageContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobService
  name: messageContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2025-01-01' = {
  parent: account
  name: 'default'
}

resource stateTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2025-01-01' = {
  parent: tableService
  name: stateTableName
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2025-01-01' = {
  parent: account
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2025-01-01' = [
  for queue in [queueName, '${queueName}-poison']: {
    parent: queueService
    name: queue
  }
]

// Custody (docs/design/custody.md): a body is deleted by the function once its message was sent; the body of
// a message that ended failed stays, resubmittable, for the retention period. The function marks such a blob
// with the index tag bridge-state=failed and touches its metadata (so its last modification is the failure
// time); the first rule deletes it retentionDays later. The second rule is a backstop for anything else
// (a blob whose delete or tagging failed): no message stays queued past the horizon, so a blob older than
// horizon + retention + 1 day has no purpose left.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2025-01-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'delete-failed-after-retention'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: ['blockBlob']
              prefixMatch: ['${messageContainer.name}/']
              blobIndexMatch: [
                {
                  name: 'bridge-state'
                  op: '=='
                  value: 'failed'
                }
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: retentionDays
                }
              }
            }
          }
        }
        {
          name: 'delete-leftovers-after-horizon-and-retention'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: ['blockBlob']
              prefixMatch: ['${messageContainer.name}/']
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: maxQueueAgeDays + retentionDays + 1
                }
              }
            }
          }
        }
      ]
    }
  }
}

output name string = account.name
output id string = account.id
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
output tableEndpoint string = account.properties.primaryEndpoints.table
output deploymentContainerName string = deploymentContainer.name
