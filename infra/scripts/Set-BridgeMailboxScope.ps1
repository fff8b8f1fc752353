<#
.SYNOPSIS
Lets the bridge's app registration send as a named set of mailboxes (and only those), with Exchange Online
RBAC for Applications, then verifies it with Test-ServicePrincipalAuthorization.

.DESCRIPTION
Use with the 'exchangeRbac' permission model (docs/deploy.md): the deployment grants the app NO Microsoft
Graph mail permission in Entra ID, and this script grants "Application Mail.Send" and "Application
Mail.ReadWrite" (large messages) in Exchange Online, limited to a management scope. Mail.ReadWrite also lets
the bridge look in the mailbox's Sent Items when Graph's answer to a send was lost (docs/design/custody.md);
with -SkipMailReadWrite the script grants "Application Mail.ReadBasic" for that look-up instead (message
properties only, never bodies).

Why not both: Entra application permissions and Exchange RBAC grants add up. If the app also holds an
admin-consented Mail.Send in Entra ID it can send as ANY mailbox, whatever this scope says
(learn.microsoft.com/graph/auth-limit-mailbox-access). Check "API permissions" of the app: it must list none.

Idempotent: run it again with the same arguments and nothing changes; with a different mailbox list the
scope's filter is updated in place. Re-running is also how you add or remove mailboxes.

Run it in Exchange Online PowerShell as an Exchange Administrator (or Organization Management):
  Connect-ExchangeOnline
  ./Set-BridgeMailboxScope.ps1 -AppId <ENTRA_APP_CLIENT_ID> -ServicePrincipalObjectId <ENTRA_SERVICE_PRINCIPAL_OBJECT_ID> `
      -Mailbox scanner@contoso.com, noreply@contoso.com -DeniedMailbox ceo@contoso.com
Both ids are outputs of the deployment. For another tenant of a multitenant app, use the object id of the
service principal in THAT tenant.

Changes can take from 30 minutes to 2 hours to reach Graph (Exchange caches permissions); the
verification here reads the configuration itself, so it passes as soon as the configuration is right.

.PARAMETER AppId
Application (client) id of the bridge's app registration.

.PARAMETER ServicePrincipalObjectId
Object id of the app's service principal (enterprise application) in this tenant. Omitted: looked up in this
tenant with Microsoft Graph PowerShell (Connect-MgGraph -TenantId <this tenant> -Scopes Application.Read.All
first), because it differs in every tenant of a multitenant app (docs/multi-tenant.md).

.PARAMETER Mailbox
Mailboxes the bridge may send as (primary SMTP addresses).

.PARAMETER Group
A mail-enabled group (name, address or id) whose members the bridge may send as.

.PARAMETER VerifyMailbox
Mailboxes that must be in scope after the change. Default: the -Mailbox list. Required with -Group.

.PARAMETER DeniedMailbox
Mailboxes that must NOT be in scope (proves the scope is a limit, not a formality).

.PARAMETER ScopeName
Name of the management scope (one per deployment).

.PARAMETER SkipMailReadWrite
Do not grant "Application Mail.ReadWrite": messages too large for one Graph request then fail. "Application
Mail.ReadBasic" is granted instead, so a lost Graph answer can still be resolved by looking in Sent Items.

.PARAMETER DisplayName
Display name of the service principal reference in Exchange Online.
#>
[CmdletBinding(SupportsShouldProcess = $true, DefaultParameterSetName = 'Mailboxes')]
param(
    [Parameter(Mandatory = $true)]
    [ValidatePattern('^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$')]
    [string] $AppId,

    [ValidatePattern('^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$')]
    [string] $ServicePrincipalObjectId,

    [Parameter(Mandatory = $true, ParameterSetName = 'Mailboxes')]
    [ValidateNotNullOrEmpty()]
    [string[]] $Mailbox,

    [Parameter(Mandatory = $true, ParameterSetName = 'Group')]
    [ValidateNotNullOrEmpty()]
    [string] $Group,

    [string[]] $VerifyMailbox = @(),

    [string[]] $DeniedMailbox = @(),

    [ValidatePattern('^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$')]
    [string] $ScopeName = 'smtp-graph-bridge-senders',

    [switch] $SkipMailReadWrite,

    [string] $DisplayName = 'SMTP Graph Bridge'
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

$requiredCommands = @(
    'Get-ServicePrincipal', 'New-ServicePrincipal',
    'Get-ManagementScope', 'New-ManagementScope', 'Set-ManagementScope',
    'Get-ManagementRoleAssignment', 'New-ManagementRoleAssignment', 'Set-ManagementRoleAssignment',
    'Test-ServicePrincipalAuthorization'
)
$missing = @($requiredCommands | Where-Object { -not (Get-Command $_ -ErrorAction SilentlyContinue) })
if ($missing.Count -gt 0) {
    throw "Exchange Online cmdlets not available ($($missing -join ', ')). Install-Module ExchangeOnlineManagement, then Connect-ExchangeOnline as an Exchange Administrator."
}

function ConvertTo-OpathLiteral([string] $value) {
    # OPATH string literals are single-quoted; a quote inside is doubled.
    return "'" + $value.Replace("'", "''") + "'"
}

function Assert-MailAddress([string] $address) {
    if ($address -notmatch '^[^@\s]+@[^@\s]+\.[^@\s]+$') { throw "Not a mailbox address: '$address'" }
}

function Get-PropertyValue($object, [string[]] $names) {
    # Exchange object shapes differ between module versions; read the first property that exists.
    foreach ($name in $names) {
        $property = $object.PSObject.Properties[$name]
        if ($property) { return [string]$property.Value }
    }
    return ''
}

function Get-NormalizedFilter([string] $filter) {
    # Exchange stores filters with its own parentheses and spacing; compare what they say, not how.
    return ($filter -replace '[()\s]', '').ToLowerInvariant()
}

# ----- 1. The management scope: which mailboxes -----
if ($PSCmdlet.ParameterSetName -eq 'Mailboxes') {
    $Mailbox | ForEach-Object { Assert-MailAddress $_ }
    $unique = @($Mailbox | ForEach-Object { $_.Trim().ToLowerInvariant() } | Sort-Object -Unique)
    $filter = ($unique | ForEach-Object { "PrimarySmtpAddress -eq $(ConvertTo-OpathLiteral $_)" }) -join ' -or '
    if ($VerifyMailbox.Count -eq 0) { $VerifyMailbox = $unique }
} else {
    $groupObject = Get-Group -Identity $Group
    if (-not $groupObject) { throw "Group '$Group' not found." }
    $filter = "MemberOfGroup -eq $(ConvertTo-OpathLiteral $groupObject.DistinguishedName)"
    if ($VerifyMailbox.Count -eq 0) {
        throw 'With -Group, name at least one member in -VerifyMailbox so the result can be verified.'
    }
}
$VerifyMailbox | ForEach-Object { Assert-MailAddress $_ }
$DeniedMailbox | ForEach-Object { Assert-MailAddress $_ }

$changes = [System.Collections.Generic.List[string]]::new()

if (-not $ServicePrincipalObjectId) {
    # A multitenant app has one service principal per tenant, each with its own object id: take it from THIS
    # tenant's directory, never from the provider's.
    if (-not (Get-Command Get-MgServicePrincipal -ErrorAction SilentlyContinue)) {
        throw "-ServicePrincipalObjectId not given and Get-MgServicePrincipal is not available: Install-Module Microsoft.Graph.Applications, Connect-MgGraph -TenantId <this tenant> -Scopes Application.Read.All, or pass the object id from Enterprise applications."
    }
    $found = @(Get-MgServicePrincipal -Filter "appId eq '$AppId'")
    if ($found.Count -ne 1) {
        throw "No service principal for app $AppId in the tenant Microsoft Graph PowerShell is connected to. Create it first (New-MgServicePrincipal -AppId $AppId, or the admin-consent link), and connect to the right tenant."
    }
    $ServicePrincipalObjectId = [string]$found[0].Id
    Write-Host "Service principal of $AppId in this tenant: $ServicePrincipalObjectId"
}

# ----- 2. The service principal reference in Exchange Online -----
$servicePrincipal = Get-ServicePrincipal -Identity $AppId -ErrorAction SilentlyContinue
if ($servicePrincipal) {
    $existingObjectId = Get-PropertyValue $servicePrincipal @('ObjectId', 'ServicePrincipalId')
    if ($existingObjectId -ne $ServicePrincipalObjectId) {
        throw "Exchange already has a service principal for app $AppId with object id $existingObjectId, not $ServicePrincipalObjectId. Use the object id of the enterprise application in this tenant."
    }
} elseif ($PSCmdlet.ShouldProcess("app $AppId", 'New-ServicePrincipal')) {
    $servicePrincipal = New-ServicePrincipal -AppId $AppId -ObjectId $ServicePrincipalObjectId -DisplayName $DisplayName
    $changes.Add("created service principal reference for $AppId")
}

$scope = Get-ManagementScope -Identity $ScopeName -ErrorAction SilentlyContinue
if (-not $scope) {
    if ($PSCmdlet.ShouldProcess($ScopeName, "New-ManagementScope ($filter)")) {
        New-ManagementScope -Name $ScopeName -RecipientRestrictionFilter $filter | Out-Null
        $changes.Add("created scope $ScopeName")
    }
} elseif ((Get-NormalizedFilter (Get-PropertyValue $scope @('RecipientFilter', 'RecipientRestrictionFilter'))) -ne (Get-NormalizedFilter $filter)) {
    if ($PSCmdlet.ShouldProcess($ScopeName, "Set-ManagementScope ($filter)")) {
        Set-ManagementScope -Identity $ScopeName -RecipientRestrictionFilter $filter | Out-Null
        $changes.Add("updated scope $ScopeName")
    }
}

# ----- 3. The role assignments: what the app may do within the scope -----
$roles = @('Application Mail.Send')
# Read access resolves lost answers in Sent Items: Mail.ReadWrite covers it, else Mail.ReadBasic.
if ($SkipMailReadWrite) { $roles += 'Application Mail.ReadBasic' } else { $roles += 'Application Mail.ReadWrite' }
foreach ($role in $roles) {
    # A fixed name per app and role finds the assignment again on the next run.
    $assignmentName = "$role - $AppId"
    $assignment = Get-ManagementRoleAssignment -Identity $assignmentName -ErrorAction SilentlyContinue
    if (-not $assignment) {
        if ($PSCmdlet.ShouldProcess($role, "New-ManagementRoleAssignment -CustomResourceScope $ScopeName")) {
            New-ManagementRoleAssignment -Name $assignmentName -App $AppId -Role $role -CustomResourceScope $ScopeName | Out-Null
            $changes.Add("assigned $role")
        }
    } elseif ((Get-PropertyValue $assignment @('CustomResourceScope', 'CustomRecipientWriteScope')) -ne $ScopeName) {
        if ($PSCmdlet.ShouldProcess($role, "Set-ManagementRoleAssignment -CustomResourceScope $ScopeName")) {
            Set-ManagementRoleAssignment -Identity $assignmentName -CustomResourceScope $ScopeName | Out-Null
            $changes.Add("re-scoped $role")
        }
    }
}

if ($WhatIfPreference) {
    Write-Host 'WhatIf: nothing was changed and nothing verified.'
    return
}

# ----- 4. Verify: every role in scope for the allowed mailboxes, none for the denied ones -----
$problems = [System.Collections.Generic.List[string]]::new()
function Get-RoleScopeResult([string] $resource) {
    $rows = @(Test-ServicePrincipalAuthorization -Identity $AppId -Resource $resource)
    $result = @{}
    foreach ($role in $roles) {
        $row = $rows | Where-Object { $_.RoleName -eq $role } | Select-Object -First 1
        # InScope may arrive as a bool or as the text "True"; [bool]"False" would be true, so compare text.
        $result[$role] = [bool]($row -and ([string]$row.InScope -eq 'True'))
    }
    return $result
}
foreach ($address in $VerifyMailbox) {
    $inScope = Get-RoleScopeResult $address
    foreach ($role in $roles) {
        if (-not $inScope[$role]) { $problems.Add("$address is not in scope of '$role'") }
    }
}
foreach ($address in $DeniedMailbox) {
    $inScope = Get-RoleScopeResult $address
    foreach ($role in $roles) {
        if ($inScope[$role]) { $problems.Add("$address is in scope of '$role' but must not be") }
    }
}
if ($problems.Count -gt 0) {
    throw "Verification failed:`n  $($problems -join "`n  ")"
}

Write-Host "Scope '$ScopeName': $filter"
Write-Host "Roles: $($roles -join ', ')"
Write-Host "Verified in scope: $($VerifyMailbox -join ', ')"
if ($DeniedMailbox.Count -gt 0) { Write-Host "Verified out of scope: $($DeniedMailbox -join ', ')" }
Write-Host ($(if ($changes.Count -gt 0) { "Changes: $($changes -join '; ')" } else { 'No changes: already configured.' }))
[pscustomobject]@{
    AppId          = $AppId
    ScopeName      = $ScopeName
    Filter         = $filter
    Roles          = $roles
    Changes        = $changes.ToArray()
    VerifiedInScope = $VerifyMailbox
    VerifiedDenied = $DeniedMailbox
}
