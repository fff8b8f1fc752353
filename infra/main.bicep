// smtp-graph-bridge, cloud half: a Flex Consumption function app that turns signed HTTPS posts from the
// on-site edge listener into Microsoft Graph sendMail calls. Deploy with `azd up`, or
// `az deployment sub create -l <region> -f infra/main.bicep -p infra/main.parameters.json` (docs/deploy.md).
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the environment (azd environment name); seeds every resource name.')
param environmentName string

@minLength(1)
@description('Azure region of every resource.')
@metadata({ azd: { type: 'location' } })
param location string

@description('Resource group name; empty: rg-<environmentName>.')
param resourceGroupName string = ''

@description('Object id of the deploying user or pipeline (azd sets AZURE_PRINCIPAL_ID); gets Key Vault Secrets Officer so it can write the site secrets. Empty: none.')
param principalId string = ''

@description('Kind of principalId.')
@allowed(['User', 'ServicePrincipal', 'Group'])
param principalType string = 'User'

// ----- Who may send as whom (docs/deploy.md "Permission models") -----

@description('exchangeRbac (default, least privilege): no Entra grant; run infra/scripts/Set-BridgeMailboxScope.ps1 to allow named mailboxes. tenantWideConsent: this deployment grants Mail.Send (+ Mail.ReadWrite) for every mailbox in the tenant.')
@allowed(['exchangeRbac', 'tenantWideConsent'])
param mailPermissionModel string = 'exchangeRbac'

@description('Support messages too large for one Graph request (draft + upload session); needs Mail.ReadWrite (application) besides Mail.Send.')
param enableLargeMessages bool = true

@description('Make the app registration multitenant, so one deployment can send for mailboxes in other tenants (each tenant consents once).')
param multiTenant bool = false

@description('Display name of the app registration; empty: "SMTP Graph Bridge (<environmentName>)".')
param appDisplayName string = ''

// ----- Bridge behaviour (app settings; meanings in docs/config-functions.md) -----

@description('BRIDGE_ALLOWED_SENDERS: comma list of mailboxes the bridge may send as; *@domain allowed.')
param allowedSenders string = ''

@description('BRIDGE_DEFAULT_SENDER: mailbox used when From is not allowed; empty: reject such messages.')
param defaultSender string = ''

@description('BRIDGE_SITES: JSON array of sites, e.g. [{"id":"hq","allowedSenders":["scanner@contoso.com"]}]. Text rather than an array so azd can pass it from an environment variable; the deployment fails on invalid JSON.')
param sites string = '[]'

@description('BRIDGE_SITE_SECRETS initial value, JSON object site id -> HMAC secret. Leave empty and set the Key Vault secret afterwards (docs/deploy.md); a value given here is written on every deployment.')
@secure()
param siteSecrets string = ''

@description('BRIDGE_MAX_MESSAGE_BYTES: largest message accepted (Exchange Online allows up to 150MiB).')
param maxMessageBytes string = '35MiB'

@description('BRIDGE_SYNC_MAX_BYTES: messages up to this size are sent within the HTTP request; larger ones are queued.')
param syncMaxBytes string = '3MiB'

@description('BRIDGE_SYNC_BUDGET_MS: time budget for sending within the request before queueing instead.')
param syncBudgetMs string = '20s'

@description('BRIDGE_SAVE_TO_SENT_ITEMS: keep a copy in the sender\'s Sent Items.')
param saveToSentItems bool = true

@description('BRIDGE_MAILBOX_CONCURRENCY: concurrent Graph requests per sender mailbox (Exchange allows 4).')
@minValue(1)
@maxValue(4)
param mailboxConcurrency int = 4

@description('BRIDGE_MAILBOX_PER_MINUTE: messages per minute per sender mailbox (Exchange allows 30).')
@minValue(1)
@maxValue(30)
param mailboxPerMinute int = 30

@description('BRIDGE_LOG_LEVEL.')
@allowed(['debug', 'info', 'warn', 'error'])
param logLevel string = 'info'

@description('BRIDGE_GRAPH_ENDPOINT: Microsoft Graph root without version (national clouds differ).')
param graphEndpoint string = 'https://graph.microsoft.com'

// ----- Sizing, retention, network -----

@description('Most instances the function app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory per instance in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('BRIDGE_MAX_QUEUE_AGE_MS in days, the horizon: a queued message is retried (at most every 30 min) until it is this old, then ends failed (MESSAGE_EXPIRED) with its body kept. Keep it equal to the edge\'s BRIDGE_MAX_QUEUE_AGE_MS (default 5 days on both).')
@minValue(1)
@maxValue(30)
param maxQueueAgeDays int = 5

@description('BRIDGE_RETENTION_MS in days: how long the body of a message that ended failed stays in blob storage (resubmittable) before the lifecycle rule deletes it.')
@minValue(1)
@maxValue(365)
param retentionDays int = 5

@description('Days Log Analytics keeps data.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

@description('Daily Log Analytics ingestion cap in GB; -1: no cap.')
param logDailyQuotaGb int = -1

@description('Key Vault purge protection (irreversible; keeps the vault name reserved after deletion).')
param keyVaultPurgeProtection bool = false

@description('VNet integration with a NAT gateway (all outbound traffic leaves from one fixed public IP), and private endpoints for storage and Key Vault, which then refuse public network access (deploy the code from inside the network: docs/deploy.md).')
param vnetEnabled bool = false

@description('Address space of the VNet (only with vnetEnabled).')
param vnetAddressPrefix string = '10.42.0.0/16'

@description('Integration subnet (only with vnetEnabled).')
param appSubnetPrefix string = '10.42.0.0/24'

@description('Subnet of the private endpoints of storage and Key Vault (only with vnetEnabled).')
param privateEndpointSubnetPrefix string = '10.42.1.0/27'

@description('Function app name; empty: generated.')
param functionAppName string = ''

@description('Storage account name; empty: generated.')
param storageAccountName string = ''

@description('Key vault name; empty: generated.')
param keyVaultName string = ''

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var appName = empty(functionAppName) ? '${abbrs.webSitesFunctions}${resourceToken}' : functionAppName
var siteSecretsSecretName = 'bridge-site-secrets'
// The admin API's key (docs/multi-tenant.md): created by the operator, never by a deployment (a redeployment
// must not rotate it); until it exists the admin API stays off and delivery is unaffected.
var adminKeySecretName = 'bridge-admin-key'
// The function app's default host name is <name>.azurewebsites.net; the consent callback lives under it.
var consentRedirectUri = 'https://${appName}.azurewebsites.net/api/v1/consent/callback'
var registryTableName = 'bridgeregistry'
// The bridge's storage names, the same as the function's defaults (test/infra/app-settings.test.ts).
var stateTableName = 'bridgemessages'
var messageContainerName = 'bridge-messages'
var queueName = 'bridge-outbound'
// ARM's authority URL is 'https://login.microsoftonline.com/' (per cloud); the bridge's setting is the bare
// origin, as @azure/identity's default.
var authorityHost = 'https://${split(environment().authentication.loginEndpoint, '/')[2]}'

resource rg 'Microsoft.Resources/resourceGroups@2024-11-01' = {
  name: empty(resourceGroupName) ? '${abbrs.resourcesResourceGroups}${environmentName}' : resourceGroupName
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'app/monitoring.bicep' = {
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
    retentionInDays: logRetentionInDays
    dailyQuotaGb: logDailyQuotaGb
  }
}

module tenantsWorkbook 'app/tenants-workbook.bicep' = if (multiTenant) {
  scope: rg
  params: {
    location: location
    tags: tags
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    displayName: 'SMTP Graph Bridge - tenants and sites (${environmentName})'
  }
}

module storage 'app/storage.bicep' = {
  scope: rg
  params: {
    name: empty(storageAccountName) ? '${abbrs.storageStorageAccounts}${resourceToken}' : storageAccountName
    location: location
    tags: tags
    deploymentContainerName: 'app-package'
    messageContainerName: messageContainerName
    stateTableName: stateTableName
    queueName: queueName
    denyPublicNetworkAccess: vnetEnabled
    maxQueueAgeDays: maxQueueAgeDays
    retentionDays: retentionDays
  }
}

module keyVault 'app/key-vault.bicep' = {
  scope: rg
  params: {
    name: empty(keyVaultName) ? '${abbrs.keyVaultVaults}${resourceToken}' : keyVaultName
    location: location
    tags: tags
    siteSecretsSecretName: siteSecretsSecretName
    siteSecrets: siteSecrets
    enablePurgeProtection: keyVaultPurgeProtection
    softDeleteRetentionInDays: 7
    denyPublicNetworkAccess: vnetEnabled
  }
}

module network 'app/network.bicep' = if (vnetEnabled) {
  scope: rg
  params: {
    vnetName: '${abbrs.networkVirtualNetworks}${resourceToken}'
    natGatewayName: '${abbrs.networkNatGateways}${resourceToken}'
    publicIpName: '${abbrs.networkPublicIPAddresses}${resourceToken}'
    location: location
    tags: tags
    addressPrefix: vnetAddressPrefix
    appSubnetPrefix: appSubnetPrefix
    privateEndpointSubnetPrefix: privateEndpointSubnetPrefix
  }
}

module privateEndpoints 'app/private-endpoints.bicep' = if (vnetEnabled) {
  scope: rg
  params: {
    location: location
    tags: tags
    namePrefix: resourceToken
    vnetId: network!.outputs.vnetId
    subnetId: network!.outputs.privateEndpointSubnetId
    storageAccountId: storage.outputs.id
    keyVaultId: keyVault.outputs.id
  }
}

module rbac 'app/rbac.bicep' = {
  scope: rg
  params: {
    identityPrincipalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultName: keyVault.outputs.name
    deployerPrincipalId: principalId
    deployerPrincipalType: principalType
  }
}

module entra 'app/entra-app.bicep' = {
  scope: rg
  params: {
    uniqueName: 'smtp-graph-bridge-${resourceToken}'
    displayName: empty(appDisplayName) ? 'SMTP Graph Bridge (${environmentName})' : appDisplayName
    multiTenant: multiTenant
    consentRedirectUri: consentRedirectUri
    mailPermissionModel: mailPermissionModel
    enableLargeMessages: enableLargeMessages
    managedIdentityPrincipalId: identity.outputs.principalId
  }
}

module functionApp 'app/function-app.bicep' = {
  scope: rg
  // The roles must exist before the app starts: the host's storage connection and the Key Vault reference
  // are resolved with them at first start — and, with vnetEnabled, through the private endpoints.
  dependsOn: [rbac, privateEndpoints]
  params: {
    name: appName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    virtualNetworkSubnetId: network.?outputs.appSubnetId ?? ''
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    bridge: {
      tenantId: tenant().tenantId
      clientId: entra.outputs.clientId
      authorityHost: authorityHost
      graphEndpoint: graphEndpoint
      allowedSenders: allowedSenders
      defaultSender: defaultSender
      sitesJson: string(json(sites))
      siteSecretsUri: '${keyVault.outputs.vaultUri}secrets/${siteSecretsSecretName}'
      adminKeyUri: '${keyVault.outputs.vaultUri}secrets/${adminKeySecretName}'
      consentRedirectUri: multiTenant ? consentRedirectUri : ''
      registryTable: registryTableName
      mailPermissionModel: mailPermissionModel
      maxMessageBytes: maxMessageBytes
      syncMaxBytes: syncMaxBytes
      syncBudgetMs: syncBudgetMs
      saveToSentItems: saveToSentItems
      maxQueueAge: '${maxQueueAgeDays}d'
      stateTable: stateTableName
      blobContainer: messageContainerName
      queueName: queueName
      mailboxConcurrency: mailboxConcurrency
      mailboxPerMinute: mailboxPerMinute
      logLevel: logLevel
    }
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output BRIDGE_FUNCTION_URL string = 'https://${functionApp.outputs.defaultHostName}'
output ENTRA_APP_CLIENT_ID string = entra.outputs.clientId
output ENTRA_SERVICE_PRINCIPAL_OBJECT_ID string = entra.outputs.servicePrincipalObjectId
output MAIL_PERMISSION_MODEL string = mailPermissionModel
output ENTRA_GRANTED_ROLES array = entra.outputs.grantedRoles
output MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output KEY_VAULT_NAME string = keyVault.outputs.name
output SITE_SECRETS_SECRET_NAME string = siteSecretsSecretName
output ADMIN_KEY_SECRET_NAME string = adminKeySecretName
output CONSENT_REDIRECT_URI string = multiTenant ? consentRedirectUri : ''
output STORAGE_ACCOUNT_NAME string = storage.outputs.name
output OUTBOUND_IP_ADDRESS string = network.?outputs.outboundIpAddress ?? ''
