<#
Tests of Get-BridgeAdminConsentUrl.ps1. Prints "N passed, N failed"; exits 1 if anything failed.
#>
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
$ScriptUnderTest = Join-Path $PSScriptRoot '..' 'Get-BridgeAdminConsentUrl.ps1'
$ClientId = '11111111-2222-3333-4444-555555555555'

$script:passed = 0
$script:failed = 0
function Test-Case([string] $name, [scriptblock] $body) {
    try { & $body; $script:passed++; Write-Output "ok   $name" }
    catch { $script:failed++; Write-Output "FAIL $name`n       $($_.Exception.Message)" }
}
function Assert-Equal($expected, $actual) { if ("$expected" -cne "$actual") { throw "expected '$expected', got '$actual'" } }
function Assert-Throws([scriptblock] $body) {
    $threw = $false
    try { & $body | Out-Null } catch { $threw = $true }
    if (-not $threw) { throw 'did not throw' }
}

Test-Case 'builds the tenant-wide admin-consent URL for a customer tenant domain' {
    Assert-Equal "https://login.microsoftonline.com/fabrikam.onmicrosoft.com/adminconsent?client_id=$ClientId" (& $ScriptUnderTest -ClientId $ClientId -TenantId fabrikam.onmicrosoft.com)
}

Test-Case 'accepts a tenant id and another cloud authority' {
    $tenant = '99999999-8888-7777-6666-555555555555'
    Assert-Equal "https://login.microsoftonline.us/$tenant/adminconsent?client_id=$ClientId" (& $ScriptUnderTest -ClientId $ClientId -TenantId $tenant -AuthorityHost https://login.microsoftonline.us)
}

Test-Case 'refuses a client id that is not a GUID' {
    Assert-Throws { & $ScriptUnderTest -ClientId 'not-a-guid' -TenantId fabrikam.onmicrosoft.com }
}

Test-Case 'refuses a tenant value that could inject a path or query' {
    Assert-Throws { & $ScriptUnderTest -ClientId $ClientId -TenantId 'fabrikam.com/x?y=' }
}

Write-Output "$script:passed passed, $script:failed failed"
exit $(if ($script:failed -gt 0) { 1 } else { 0 })
