<#
Tests of Set-BridgeMailboxScope.ps1 against a fake Exchange Online: the Exchange cmdlets are replaced, at the
boundary only, by functions of the same names that keep an in-memory organization (service principals,
management scopes, role assignments, group members) and record every call. Test-ServicePrincipalAuthorization
evaluates the stored scope filters, so the script's verification runs against what the script configured.

Plain PowerShell (Pester is not available offline): prints one line per test and "N passed, N failed";
exits 1 if anything failed. Run: pwsh -NoProfile -File infra/scripts/tests/Set-BridgeMailboxScope.Tests.ps1
#>
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
$ScriptUnderTest = Join-Path $PSScriptRoot '..' 'Set-BridgeMailboxScope.ps1'

$AppId = '11111111-2222-3333-4444-555555555555'
$SpObjectId = '66666666-7777-8888-9999-000000000000'
$GroupDn = 'CN=Bridge Senders,OU=contoso.onmicrosoft.com,DC=EURPR01,DC=PROD,DC=OUTLOOK,DC=COM'

# ----- the fake Exchange Online -----
function Reset-FakeExchange {
    $global:FakeExo = @{
        ServicePrincipals = @{}
        Scopes            = @{}
        Assignments       = @{}
        Groups            = @{ 'bridge-senders@contoso.com' = [pscustomobject]@{ DistinguishedName = $GroupDn } }
        GroupMembers      = @{ $GroupDn = @('scanner@contoso.com', 'copier@contoso.com') }
        Calls             = [System.Collections.Generic.List[string]]::new()
        # Entra ID of the connected tenant (Microsoft Graph PowerShell): this tenant's service principal.
        EntraServicePrincipals = @([pscustomobject]@{ AppId = $AppId; Id = 'abcdefab-1111-2222-3333-444444444444' })
    }
}

function Get-ServicePrincipal {
    [CmdletBinding()] param([string] $Identity)
    $global:FakeExo.Calls.Add("Get-ServicePrincipal $Identity")
    if ($global:FakeExo.ServicePrincipals.ContainsKey($Identity)) { return $global:FakeExo.ServicePrincipals[$Identity] }
    Write-Error "The operation couldn't be performed because object '$Identity' couldn't be found."
}
function New-ServicePrincipal {
    [CmdletBinding()] param([string] $AppId, [string] $ObjectId, [string] $DisplayName)
    $global:FakeExo.Calls.Add("New-ServicePrincipal $AppId $ObjectId")
    $sp = [pscustomobject]@{ AppId = $AppId; ObjectId = $ObjectId; DisplayName = $DisplayName }
    $global:FakeExo.ServicePrincipals[$AppId] = $sp
    return $sp
}
function Get-ManagementScope {
    [CmdletBinding()] param([string] $Identity)
    $global:FakeExo.Calls.Add("Get-ManagementScope $Identity")
    if ($global:FakeExo.Scopes.ContainsKey($Identity)) { return $global:FakeExo.Scopes[$Identity] }
    Write-Error "The operation couldn't be performed because object '$Identity' couldn't be found."
}
function New-ManagementScope {
    [CmdletBinding()] param([string] $Name, [string] $RecipientRestrictionFilter)
    $global:FakeExo.Calls.Add("New-ManagementScope $Name")
    if ($global:FakeExo.Scopes.ContainsKey($Name)) { throw "scope $Name already exists" }
    # Exchange stores the filter with its own parentheses; the script must not be fooled by that.
    $global:FakeExo.Scopes[$Name] = [pscustomobject]@{ Name = $Name; RecipientFilter = "($RecipientRestrictionFilter)" }
}
function Set-ManagementScope {
    [CmdletBinding()] param([string] $Identity, [string] $RecipientRestrictionFilter)
    $global:FakeExo.Calls.Add("Set-ManagementScope $Identity")
    $global:FakeExo.Scopes[$Identity].RecipientFilter = "($RecipientRestrictionFilter)"
}
function Get-ManagementRoleAssignment {
    [CmdletBinding()] param([string] $Identity)
    $global:FakeExo.Calls.Add("Get-ManagementRoleAssignment $Identity")
    if ($global:FakeExo.Assignments.ContainsKey($Identity)) { return $global:FakeExo.Assignments[$Identity] }
    Write-Error "The operation couldn't be performed because object '$Identity' couldn't be found."
}
function New-ManagementRoleAssignment {
    [CmdletBinding()] param([string] $Name, [string] $App, [string] $Role, [string] $CustomResourceScope)
    $global:FakeExo.Calls.Add("New-ManagementRoleAssignment $Role $CustomResourceScope")
    if (-not $global:FakeExo.ServicePrincipals.ContainsKey($App)) { throw "no service principal for $App" }
    if (-not $global:FakeExo.Scopes.ContainsKey($CustomResourceScope)) { throw "no scope $CustomResourceScope" }
    $global:FakeExo.Assignments[$Name] = [pscustomobject]@{ Name = $Name; App = $App; Role = $Role; CustomResourceScope = $CustomResourceScope }
}
function Set-ManagementRoleAssignment {
    [CmdletBinding()] param([string] $Identity, [string] $CustomResourceScope)
    $global:FakeExo.Calls.Add("Set-ManagementRoleAssignment $Identity $CustomResourceScope")
    $global:FakeExo.Assignments[$Identity].CustomResourceScope = $CustomResourceScope
}
function Get-MgServicePrincipal {
    [CmdletBinding()] param([string] $Filter)
    $global:FakeExo.Calls.Add("Get-MgServicePrincipal $Filter")
    @($global:FakeExo.EntraServicePrincipals | Where-Object { $Filter -eq "appId eq '$($_.AppId)'" })
}
function Get-Group {
    [CmdletBinding()] param([string] $Identity)
    $global:FakeExo.Calls.Add("Get-Group $Identity")
    if ($global:FakeExo.Groups.ContainsKey($Identity)) { return $global:FakeExo.Groups[$Identity] }
    throw "Group $Identity not found"
}
function Test-FakeFilter([string] $filter, [string] $mailbox) {
    $literals = [regex]::Matches($filter, "'((?:[^']|'')*)'") | ForEach-Object { $_.Groups[1].Value.Replace("''", "'") }
    if ($filter -match 'MemberOfGroup') {
        return @($literals | Where-Object { $global:FakeExo.GroupMembers[$_] -contains $mailbox }).Count -gt 0
    }
    return $literals -contains $mailbox
}
function Test-ServicePrincipalAuthorization {
    [CmdletBinding()] param([string] $Identity, [string] $Resource)
    $global:FakeExo.Calls.Add("Test-ServicePrincipalAuthorization $Identity $Resource")
    foreach ($assignment in $global:FakeExo.Assignments.Values | Where-Object { $_.App -eq $Identity }) {
        $scope = $global:FakeExo.Scopes[$assignment.CustomResourceScope]
        [pscustomobject]@{
            RoleName             = $assignment.Role
            GrantedPermissions   = $assignment.Role.Replace('Application ', '')
            AllowedResourceScope = $assignment.CustomResourceScope
            ScopeType            = 'CustomRecipientScope'
            InScope              = Test-FakeFilter $scope.RecipientFilter $Resource
        }
    }
}

# ----- a minimal test runner -----
$script:passed = 0
$script:failed = 0
function Test-Case([string] $name, [scriptblock] $body) {
    Reset-FakeExchange
    try {
        & $body
        $script:passed++
        Write-Output "ok   $name"
    } catch {
        $script:failed++
        Write-Output "FAIL $name`n       $($_.Exception.Message)"
    }
}
function Assert-True([bool] $condition, [string] $message) {
    if (-not $condition) { throw $message }
}
function Assert-Equal($expected, $actual, [string] $what) {
    if ("$expected" -cne "$actual") { throw "$what`: expected '$expected', got '$actual'" }
}
function Assert-List([object[]] $expected, [object[]] $actual, [string] $what) {
    $e = @($expected) -join "`n"
    $a = @($actual) -join "`n"
    if ($e -cne $a) { throw "$what`: expected [$($e -replace "`n", ' | ')], got [$($a -replace "`n", ' | ')]" }
}
function Assert-Throws([scriptblock] $body, [string] $pattern) {
    try { & $body } catch {
        if ($_.Exception.Message -notmatch $pattern) { throw "threw '$($_.Exception.Message)', expected /$pattern/" }
        return
    }
    throw "did not throw (expected /$pattern/)"
}
function Invoke-Script([hashtable] $arguments) {
    # Write-Host (stream 6) is the script's report for people; the tests read its returned object.
    & $ScriptUnderTest @arguments 6>$null
}
function Get-Calls([string] $prefix) { @($global:FakeExo.Calls | Where-Object { $_.StartsWith($prefix) }) }

$baseArgs = @{ AppId = $AppId; ServicePrincipalObjectId = $SpObjectId }

# ----- the tests -----
Test-Case 'grants Mail.Send and Mail.ReadWrite to exactly the named mailboxes and verifies them' {
    $result = Invoke-Script ($baseArgs + @{ Mailbox = @('Scanner@Contoso.com', 'copier@contoso.com'); DeniedMailbox = @('ceo@contoso.com') })
    Assert-Equal "PrimarySmtpAddress -eq 'copier@contoso.com' -or PrimarySmtpAddress -eq 'scanner@contoso.com'" $result.Filter 'filter'
    Assert-List @('New-ServicePrincipal 11111111-2222-3333-4444-555555555555 66666666-7777-8888-9999-000000000000') (Get-Calls 'New-ServicePrincipal') 'service principal'
    Assert-List @('New-ManagementScope smtp-graph-bridge-senders') (Get-Calls 'New-ManagementScope') 'scope'
    Assert-List @('New-ManagementRoleAssignment Application Mail.Send smtp-graph-bridge-senders',
        'New-ManagementRoleAssignment Application Mail.ReadWrite smtp-graph-bridge-senders') (Get-Calls 'New-ManagementRoleAssignment') 'assignments'
    Assert-Equal 3 @(Get-Calls 'Test-ServicePrincipalAuthorization').Count 'verification calls (2 allowed + 1 denied)'
}

Test-Case 'a second run with the same arguments changes nothing' {
    $arguments = $baseArgs + @{ Mailbox = @('scanner@contoso.com') }
    Invoke-Script $arguments | Out-Null
    $global:FakeExo.Calls.Clear()
    $result = Invoke-Script $arguments
    Assert-List @() (@(Get-Calls 'New-') + @(Get-Calls 'Set-')) 'changing calls on the second run'
    Assert-List @() $result.Changes 'reported changes'
}

Test-Case 'a changed mailbox list updates the scope in place and keeps the assignments' {
    Invoke-Script ($baseArgs + @{ Mailbox = @('scanner@contoso.com') }) | Out-Null
    $global:FakeExo.Calls.Clear()
    $result = Invoke-Script ($baseArgs + @{ Mailbox = @('scanner@contoso.com', 'fax@contoso.com'); DeniedMailbox = @('ceo@contoso.com') })
    Assert-List @('Set-ManagementScope smtp-graph-bridge-senders') (Get-Calls 'Set-') 'updates'
    Assert-List @() (Get-Calls 'New-') 'creations'
    Assert-List @('updated scope smtp-graph-bridge-senders') $result.Changes 'reported changes'
}

Test-Case 'an assignment found on another scope is moved to this one' {
    Invoke-Script ($baseArgs + @{ Mailbox = @('scanner@contoso.com') }) | Out-Null
    $global:FakeExo.Scopes['old-scope'] = [pscustomobject]@{ Name = 'old-scope'; RecipientFilter = "PrimarySmtpAddress -eq 'x@contoso.com'" }
    $global:FakeExo.Assignments["Application Mail.Send - $AppId"].CustomResourceScope = 'old-scope'
    $global:FakeExo.Calls.Clear()
    Invoke-Script ($baseArgs + @{ Mailbox = @('scanner@contoso.com') }) | Out-Null
    Assert-List @("Set-ManagementRoleAssignment Application Mail.Send - $AppId smtp-graph-bridge-senders") (Get-Calls 'Set-') 're-scope'
}

Test-Case '-SkipMailReadWrite grants Mail.Send and, for the Sent Items look-up, Mail.ReadBasic only' {
    $result = Invoke-Script ($baseArgs + @{ Mailbox = @('scanner@contoso.com'); SkipMailReadWrite = $true })
    Assert-List @('Application Mail.Send', 'Application Mail.ReadBasic') $result.Roles 'roles'
    Assert-Equal 2 @(Get-Calls 'New-ManagementRoleAssignment').Count 'assignments'
}

Test-Case 'a group scope filters on membership by distinguished name and verifies named members' {
    $result = Invoke-Script ($baseArgs + @{ Group = 'bridge-senders@contoso.com'; VerifyMailbox = @('copier@contoso.com'); DeniedMailbox = @('ceo@contoso.com') })
    Assert-Equal "MemberOfGroup -eq '$GroupDn'" $result.Filter 'filter'
}

Test-Case 'without -ServicePrincipalObjectId the object id is looked up in the connected tenant' {
    Invoke-Script @{ AppId = $AppId; Mailbox = @('scanner@contoso.com') } | Out-Null
    Assert-List @("Get-MgServicePrincipal appId eq '$AppId'") (Get-Calls 'Get-MgServicePrincipal') 'lookup'
    Assert-List @("New-ServicePrincipal $AppId abcdefab-1111-2222-3333-444444444444") (Get-Calls 'New-ServicePrincipal') 'service principal'
}

Test-Case 'without a service principal in the connected tenant the lookup is refused before any change' {
    $global:FakeExo.EntraServicePrincipals = @()
    Assert-Throws { Invoke-Script @{ AppId = $AppId; Mailbox = @('scanner@contoso.com') } } 'Create it first'
    Assert-List @() (Get-Calls 'New-') 'changes'
}

Test-Case 'a group scope without a mailbox to verify is refused before any change' {
    Assert-Throws { Invoke-Script ($baseArgs + @{ Group = 'bridge-senders@contoso.com' }) } 'VerifyMailbox'
    Assert-List @() (Get-Calls 'New-') 'changes'
}

Test-Case 'a quote in an address is doubled in the OPATH filter, not able to end the literal' {
    $result = Invoke-Script ($baseArgs + @{ Mailbox = @("o'brien@contoso.com") })
    Assert-Equal "PrimarySmtpAddress -eq 'o''brien@contoso.com'" $result.Filter 'filter'
}

Test-Case 'an argument that is not a mailbox address is refused before any change' {
    Assert-Throws { Invoke-Script ($baseArgs + @{ Mailbox = @('not-an-address') }) } 'Not a mailbox address'
    Assert-List @() (Get-Calls 'New-') 'changes'
}

Test-Case 'a denied mailbox that the scope covers fails the verification' {
    Assert-Throws { Invoke-Script ($baseArgs + @{ Mailbox = @('scanner@contoso.com', 'ceo@contoso.com'); DeniedMailbox = @('ceo@contoso.com') }) } 'ceo@contoso.com is in scope'
}

Test-Case 'a mailbox Exchange reports out of scope fails the verification' {
    $global:FakeExo.GroupMembers[$GroupDn] = @('copier@contoso.com')
    Assert-Throws { Invoke-Script ($baseArgs + @{ Group = 'bridge-senders@contoso.com'; VerifyMailbox = @('scanner@contoso.com') }) } 'scanner@contoso.com is not in scope'
}

Test-Case 'a service principal reference with another object id is an error, not silently reused' {
    $global:FakeExo.ServicePrincipals[$AppId] = [pscustomobject]@{ AppId = $AppId; ObjectId = '99999999-9999-9999-9999-999999999999' }
    Assert-Throws { Invoke-Script ($baseArgs + @{ Mailbox = @('scanner@contoso.com') }) } 'object id 99999999'
    Assert-List @() (Get-Calls 'New-') 'changes'
}

Test-Case '-WhatIf changes and verifies nothing' {
    Invoke-Script ($baseArgs + @{ Mailbox = @('scanner@contoso.com'); WhatIf = $true }) | Out-Null
    Assert-List @() (@(Get-Calls 'New-') + @(Get-Calls 'Set-') + @(Get-Calls 'Test-')) 'calls'
}

Test-Case 'without Exchange Online cmdlets it says to connect first' {
    # A new runspace has none of the fakes above, like a session without Connect-ExchangeOnline.
    $ps = [powershell]::Create()
    try {
        $null = $ps.AddCommand($ScriptUnderTest).AddParameters(@{ AppId = $AppId; ServicePrincipalObjectId = $SpObjectId; Mailbox = @('scanner@contoso.com') })
        Assert-Throws { $ps.Invoke() } 'Connect-ExchangeOnline'
    } finally {
        $ps.Dispose()
    }
}

Write-Output "$script:passed passed, $script:failed failed"
exit $(if ($script:failed -gt 0) { 1 } else { 0 })
