// Optional: VNet integration with a NAT gateway, so every outbound call of the function leaves from one fixed
// public IP (for partners that allow-list it). Flex Consumption integrates with a subnet delegated to
// Microsoft.App/environments (learn.microsoft.com/azure/azure-functions/flex-consumption-plan). A second
// subnet holds the private endpoints of storage and Key Vault (private-endpoints.bicep), which then refuse
// public network access.

@description('Name of the virtual network.')
param vnetName string

@description('Name of the NAT gateway.')
param natGatewayName string

@description('Name of the NAT gateway public IP.')
param publicIpName string

@description('Azure region.')
param location string

@description('Tags for the resources.')
param tags object

@description('Address space of the virtual network.')
param addressPrefix string

@description('Address range of the integration subnet (a /27 or larger; Flex Consumption needs room to scale out).')
param appSubnetPrefix string

@description('Address range of the subnet for the private endpoints of storage and Key Vault (four endpoints; a /28 or larger).')
param privateEndpointSubnetPrefix string

resource publicIp 'Microsoft.Network/publicIPAddresses@2024-05-01' = {
  name: publicIpName
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Regional'
  }
  properties: {
    publicIPAddressVersion: 'IPv4'
    publicIPAllocationMethod: 'Static'
  }
}

resource natGateway 'Microsoft.Network/natGateways@2024-05-01' = {
  name: natGatewayName
  location: location
  tags: tags
  sku: {
    name: 'Standard'
  }
  properties: {
    idleTimeoutInMinutes: 4
    publicIpAddresses: [
      {
        id: publicIp.id
      }
    ]
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: vnetName
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [addressPrefix]
    }
    subnets: [
      {
        name: 'function-app'
        properties: {
          addressPrefix: appSubnetPrefix
          natGateway: {
            id: natGateway.id
          }
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: privateEndpointSubnetPrefix
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

output vnetId string = vnet.id
output appSubnetId string = vnet.properties.subnets[0].id
output privateEndpointSubnetId string = vnet.properties.subnets[1].id
output outboundIpAddress string = publicIp.properties.ipAddress
