// Key Vault for the bridge's secrets (the per-site HMAC secrets, and certificates if an operator adds any).
// Access is Azure RBAC only (no access policies); the function reads through a Key Vault reference.

@description('Name of the key vault (3-24 characters).')
param name string

@description('Azure region.')
param location string

@description('Refuse every public network (with vnetEnabled: the function reaches it through a private endpoint, private-endpoints.bicep). False: public endpoint open, access by identity and RBAC only.')
param denyPublicNetworkAccess bool

@description('Tags for the resource.')
param tags object

@description('Name of the secret that holds BRIDGE_SITE_SECRETS.')
param siteSecretsSecretName string

@description('Initial JSON object site id -> HMAC secret. Empty: the secret is not written by this deployment (set it with az keyvault secret set), so a redeployment never overwrites secrets an operator rotated.')
@secure()
param siteSecrets string

@description('Purge protection. Recommended for production; it also means a deleted vault name stays reserved for the retention period.')
param enablePurgeProtection bool

@description('Days a deleted vault or secret can be recovered.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    // The API accepts only true or absent: purge protection cannot be switched off once on.
    enablePurgeProtection: enablePurgeProtection ? true : null
    publicNetworkAccess: denyPublicNetworkAccess ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: denyPublicNetworkAccess ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource siteSecretsSecret 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = if (!empty(siteSecrets)) {
  parent: vault
  name: siteSecretsSecretName
  properties: {
    value: siteSecrets
    contentType: 'application/json'
  }
}

output name string = vault.name
output id string = vault.id
output vaultUri string = vault.properties.vaultUri
output siteSecretsSecretName string = siteSecretsSecretName
