<#
.SYNOPSIS
Prints the URL an administrator of ANOTHER tenant opens once to add the bridge's multitenant app to that
tenant (and, with the 'tenantWideConsent' model, to grant its Mail.Send / Mail.ReadWrite there).

.DESCRIPTION
The admin-consent endpoint grants exactly the permissions the app registration declares
(learn.microsoft.com/entra/identity/enterprise-apps/grant-admin-consent, "Construct the URL for granting
tenant-wide admin consent"). With 'exchangeRbac' the app declares none, so consent only creates its service
principal in that tenant; then run Set-BridgeMailboxScope.ps1 there with that tenant's service principal
object id. The app registration must be multitenant (deploy with multiTenant=true).

.PARAMETER ClientId
Application (client) id of the bridge (deployment output ENTRA_APP_CLIENT_ID).

.PARAMETER TenantId
The customer tenant: its id (GUID) or a verified domain such as contoso.onmicrosoft.com.

.PARAMETER AuthorityHost
Entra authority for the cloud (public cloud default).

.EXAMPLE
./Get-BridgeAdminConsentUrl.ps1 -ClientId 00000000-0000-0000-0000-000000000000 -TenantId fabrikam.onmicrosoft.com
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [ValidatePattern('^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$')]
    [string] $ClientId,

    [Parameter(Mandatory = $true)]
    [ValidatePattern('^([0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}|[A-Za-z0-9.-]+\.[A-Za-z]{2,})$')]
    [string] $TenantId,

    [ValidatePattern('^https://[^/]+$')]
    [string] $AuthorityHost = 'https://login.microsoftonline.com'
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

"$AuthorityHost/$([uri]::EscapeDataString($TenantId))/adminconsent?client_id=$([uri]::EscapeDataString($ClientId))"
