// The Entra side of the bridge, with the Microsoft Graph Bicep extension (docs/design/platform-facts.md §C11):
// an app registration whose only credential is a federated identity credential trusting the managed identity
// (no client secret, no certificate), its service principal, and - only with the 'tenantWideConsent'
// permission model - the Graph application permissions granted to it (appRoleAssignedTo is the admin consent).
//
// Why a choice of models: Entra application permissions and Exchange RBAC for Applications add up
// (learn.microsoft.com/graph/auth-limit-mailbox-access: "independent of the unscoped grants in Microsoft Entra
// ID"). An Entra-consented Mail.Send can send as ANY mailbox whatever Exchange says, so least privilege means
// no Entra grant and Exchange RBAC scoped to named mailboxes (infra/scripts/Set-BridgeMailboxScope.ps1).
extension microsoftGraphV1

@description('Immutable unique name of the app registration (lets redeployments find it).')
param uniqueName string

@description('Display name of the app registration.')
param displayName string

@description('Multitenant app registration: needed when one deployment sends for mailboxes in other tenants.')
param multiTenant bool

@description('tenantWideConsent: this deployment grants Mail.Send and Mail.ReadWrite (or Mail.ReadBasic) tenant-wide. exchangeRbac: no Entra grant; scope mailboxes with Exchange RBAC for Applications.')
@allowed(['tenantWideConsent', 'exchangeRbac'])
param mailPermissionModel string

@description('Also grant Mail.ReadWrite (application): needed to send messages too large for one Graph request (draft + upload session).')
param enableLargeMessages bool

@description('Redirect URI of the admin-consent flow (the function\'s /api/v1/consent/callback); registered only when multiTenant.')
param consentRedirectUri string

@description('Principal (object) id of the managed identity trusted as the federated credential.')
param managedIdentityPrincipalId string

var tenantWideConsent = mailPermissionModel == 'tenantWideConsent'
// Read access lets the function look in Sent Items when Graph's answer to a send was lost (docs/design/custody.md):
// Mail.ReadWrite (large messages) covers it, otherwise Mail.ReadBasic (properties only, never bodies).
var mailRoles = enableLargeMessages ? ['Mail.Send', 'Mail.ReadWrite'] : ['Mail.Send', 'Mail.ReadBasic']

// Microsoft Graph's own service principal: its well-known application id is the same in every tenant.
resource graphServicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' existing = {
  appId: '00000003-0000-0000-c000-000000000000'
}

resource application 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  signInAudience: multiTenant ? 'AzureADMultipleOrgs' : 'AzureADMyOrg'
  // Entra sends a customer admin back here after the admin-consent prompt (docs/multi-tenant.md); it must be
  // registered exactly, or Entra refuses the consent request (AADSTS50011).
  web: {
    redirectUris: multiTenant ? [consentRedirectUri] : []
  }
  // Declared permissions are what an admin-consent URL in another tenant grants; with exchangeRbac the app
  // declares none, so no consent click anywhere can widen it to tenant-wide.
  requiredResourceAccess: tenantWideConsent
    ? [
        {
          resourceAppId: graphServicePrincipal.appId
          resourceAccess: map(
            mailRoles,
            role => { id: filter(graphServicePrincipal.appRoles, r => r.value == role)[0].id, type: 'Role' }
          )
        }
      ]
    : []
}

resource managedIdentityCredential 'Microsoft.Graph/applications/federatedIdentityCredentials@v1.0' = {
  name: '${application.uniqueName}/bridge-managed-identity'
  description: 'The bridge function app\'s user-assigned managed identity (secretless sign-in).'
  audiences: ['api://AzureADTokenExchange']
  issuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
  subject: managedIdentityPrincipalId
}

resource servicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: application.appId
}

// The admin consent itself: application permissions granted to the bridge's service principal. The app role
// ids are looked up by value on Graph's own service principal rather than copied as GUIDs.
resource mailSendGrant 'Microsoft.Graph/appRoleAssignedTo@v1.0' = if (tenantWideConsent) {
  appRoleId: filter(graphServicePrincipal.appRoles, r => r.value == 'Mail.Send')[0].id
  principalId: servicePrincipal.id
  resourceId: graphServicePrincipal.id
}

resource mailReadWriteGrant 'Microsoft.Graph/appRoleAssignedTo@v1.0' = if (tenantWideConsent && enableLargeMessages) {
  appRoleId: filter(graphServicePrincipal.appRoles, r => r.value == 'Mail.ReadWrite')[0].id
  principalId: servicePrincipal.id
  resourceId: graphServicePrincipal.id
}

resource mailReadBasicGrant 'Microsoft.Graph/appRoleAssignedTo@v1.0' = if (tenantWideConsent && !enableLargeMessages) {
  appRoleId: filter(graphServicePrincipal.appRoles, r => r.value == 'Mail.ReadBasic')[0].id
  principalId: servicePrincipal.id
  resourceId: graphServicePrincipal.id
}

output clientId string = application.appId
output servicePrincipalObjectId string = servicePrincipal.id
output grantedRoles array = tenantWideConsent ? mailRoles : []
