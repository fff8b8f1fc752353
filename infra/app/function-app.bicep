// The function app on Flex Consumption (FC1), Node 22, running as the user-assigned identity. Every app
// setting the function reads is set here, and only those: test/infra/app-settings.test.ts compares this list
// with the function's configuration schema (functions/config.ts), so template and code cannot drift.

@description('Name of the function app.')
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Azure region.')
param location string

@description('Tags for the resources.')
param tags object

@description('Resource id of the user-assigned managed identity.')
param identityId string

@description('Client id of the user-assigned managed identity.')
param identityClientId string

@description('Blob endpoint of the storage account (ends with /).')
param storageBlobEndpoint string

@description('Queue endpoint of the storage account.')
param storageQueueEndpoint string

@description('Table endpoint of the storage account.')
param storageTableEndpoint string

@description('Blob container that holds the deployment package.')
param deploymentContainerName string

@description('Application Insights connection string (not a credential; local auth is off).')
param applicationInsightsConnectionString string

@description('Subnet for VNet integration; empty: none.')
param virtualNetworkSubnetId string

@description('Most instances the app scales out to. Exchange paces per mailbox anyway (4 concurrent requests, 30 messages a minute).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory per instance in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int

@description('Values of the bridge settings, already resolved by main.bicep.')
param bridge {
  @description('Home tenant of the app registration.')
  tenantId: string
  @description('Client id of the app registration.')
  clientId: string
  @description('Entra authority host.')
  authorityHost: string
  @description('Graph root without version.')
  graphEndpoint: string
  @description('Comma list of mailboxes the bridge may send as.')
  allowedSenders: string
  @description('Mailbox used when From is not allowed.')
  defaultSender: string
  @description('JSON array of sites.')
  sitesJson: string
  @description('Key Vault secret URI (without version) of the site secrets.')
  siteSecretsUri: string
  @description('Key Vault secret URI (without version) of the admin API key; an unresolved reference leaves the admin API off.')
  adminKeyUri: string
  @description('Redirect URI of the admin-consent flow; empty unless multiTenant.')
  consentRedirectUri: string
  @description('Table of the tenant and site registry.')
  registryTable: string
  @description('exchangeRbac or tenantWideConsent: lets doctor and deep health warn when a tenant-wide grant makes the Exchange scope moot.')
  mailPermissionModel: string
  @description('Largest message accepted, e.g. 35MiB.')
  maxMessageBytes: string
  @description('Messages up to this size are sent within the HTTP request.')
  syncMaxBytes: string
  @description('Time budget for sending within the request, e.g. 20s.')
  syncBudgetMs: string
  @description('Keep a copy in Sent Items.')
  saveToSentItems: bool
  @description('The horizon (BRIDGE_MAX_QUEUE_AGE_MS), e.g. 5d.')
  maxQueueAge: string
  @description('Table of message state records.')
  stateTable: string
  @description('Container of queued raw messages.')
  blobContainer: string
  @description('Queue of pointers to queued messages.')
  queueName: string
  @description('Concurrent Graph requests per sender mailbox.')
  mailboxConcurrency: int
  @description('Messages per minute per sender mailbox.')
  mailboxPerMinute: int
  @description('Log level.')
  logLevel: string
}

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-11-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false
    // Key Vault references (BRIDGE_SITE_SECRETS) are resolved with the user-assigned identity.
    keyVaultReferenceIdentity: identityId
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: [
        // Identity-based host storage: no connection string, no key (storage has shared keys off).
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
        { name: 'AzureWebJobsStorage__blobServiceUri', value: storageBlobEndpoint }
        { name: 'AzureWebJobsStorage__queueServiceUri', value: storageQueueEndpoint }
        { name: 'AzureWebJobsStorage__tableServiceUri', value: storageTableEndpoint }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsightsConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identityClientId};Authorization=AAD' }
        // Secretless Graph sign-in: the managed identity's token is the client assertion of the app registration.
        { name: 'AZURE_TENANT_ID', value: bridge.tenantId }
        { name: 'AZURE_CLIENT_ID', value: bridge.clientId }
        { name: 'AZURE_AUTHORITY_HOST', value: bridge.authorityHost }
        { name: 'BRIDGE_MANAGED_IDENTITY_CLIENT_ID', value: identityClientId }
        { name: 'BRIDGE_GRAPH_ENDPOINT', value: bridge.graphEndpoint }
        { name: 'BRIDGE_ALLOWED_SENDERS', value: bridge.allowedSenders }
        { name: 'BRIDGE_DEFAULT_SENDER', value: bridge.defaultSender }
        { name: 'BRIDGE_SITES', value: bridge.sitesJson }
        { name: 'BRIDGE_SITE_SECRETS', value: '@Microsoft.KeyVault(SecretUri=${bridge.siteSecretsUri})' }
        { name: 'BRIDGE_MAIL_PERMISSION_MODEL', value: bridge.mailPermissionModel }
        { name: 'BRIDGE_REGISTRY_TABLE', value: bridge.registryTable }
        { name: 'BRIDGE_ADMIN_KEY', value: '@Microsoft.KeyVault(SecretUri=${bridge.adminKeyUri})' }
        { name: 'BRIDGE_CONSENT_REDIRECT_URI', value: bridge.consentRedirectUri }
        { name: 'BRIDGE_MAX_MESSAGE_BYTES', value: bridge.maxMessageBytes }
        { name: 'BRIDGE_SYNC_MAX_BYTES', value: bridge.syncMaxBytes }
        { name: 'BRIDGE_SYNC_BUDGET_MS', value: bridge.syncBudgetMs }
        // ARM's string(true) is 'True'; the function's bool() parser expects lower case.
        { name: 'BRIDGE_SAVE_TO_SENT_ITEMS', value: bridge.saveToSentItems ? 'true' : 'false' }
        { name: 'BRIDGE_MAX_QUEUE_AGE_MS', value: bridge.maxQueueAge }
        { name: 'BRIDGE_STATE_TABLE', value: bridge.stateTable }
        { name: 'BRIDGE_BLOB_CONTAINER', value: bridge.blobContainer }
        { name: 'BRIDGE_QUEUE_NAME', value: bridge.queueName }
        { name: 'BRIDGE_MAILBOX_CONCURRENCY', value: string(bridge.mailboxConcurrency) }
        { name: 'BRIDGE_MAILBOX_PER_MINUTE', value: string(bridge.mailboxPerMinute) }
        { name: 'BRIDGE_LOG_LEVEL', value: bridge.logLevel }
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// Basic (user name + password) publishing is off for both FTP and the SCM/Kudu site: deployments authenticate
// with Entra ID (azd, az CLI, azure/login in CI).
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
