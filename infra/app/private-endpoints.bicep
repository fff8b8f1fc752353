// Private endpoints of the storage account (blob, queue, table: the Functions host and the bridge use all
// three) and of the Key Vault (the BRIDGE_SITE_SECRETS reference), each registered in its privatelink DNS
// zone, linked to the VNet, so the function app — whose outbound traffic goes through the VNet — resolves
// the usual host names to private addresses. storage.bicep and key-vault.bicep then deny public access.

@description('Azure region of the endpoints (the VNet\'s).')
param location string

@description('Tags for the resources.')
param tags object

@description('Prefix of the endpoint names (e.g. the resource token).')
param namePrefix string

@description('The VNet the DNS zones are linked to.')
param vnetId string

@description('Subnet that holds the endpoints.')
param subnetId string

@description('Resource id of the storage account.')
param storageAccountId string

@description('Resource id of the key vault.')
param keyVaultId string

// Zone names per cloud: environment().suffixes.storage is core.windows.net in the public cloud; Key Vault's
// privatelink zone is vaultcore where its DNS suffix says vault (privatelink.vaultcore.azure.net).
var storageSuffix = environment().suffixes.storage
var keyVaultZone = 'privatelink${replace(environment().suffixes.keyvaultDns, '.vault.', '.vaultcore.')}'

var endpoints = [
  { name: 'blob', groupId: 'blob', target: storageAccountId, zone: 'privatelink.blob.${storageSuffix}' }
  { name: 'queue', groupId: 'queue', target: storageAccountId, zone: 'privatelink.queue.${storageSuffix}' }
  { name: 'table', groupId: 'table', target: storageAccountId, zone: 'privatelink.table.${storageSuffix}' }
  { name: 'vault', groupId: 'vault', target: keyVaultId, zone: keyVaultZone }
]

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for e in endpoints: {
    name: e.zone
    location: 'global'
    tags: tags
  }
]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (e, i) in endpoints: {
    parent: zones[i]
    name: 'bridge-vnet'
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: vnetId
      }
    }
  }
]

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [
  for e in endpoints: {
    name: 'pe-${namePrefix}-${e.name}'
    location: location
    tags: tags
    properties: {
      subnet: {
        id: subnetId
      }
      privateLinkServiceConnections: [
        {
          name: e.name
          properties: {
            privateLinkServiceId: e.target
            groupIds: [e.groupId]
          }
        }
      ]
    }
  }
]

resource zoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [
  for (e, i) in endpoints: {
    parent: privateEndpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: e.name
          properties: {
            privateDnsZoneId: zones[i].id
          }
        }
      ]
    }
  }
]
