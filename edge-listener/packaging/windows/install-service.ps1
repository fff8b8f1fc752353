#Requires -Version 5.1
<#
.SYNOPSIS
Installs the smtp-graph-bridge edge listener as a Windows service (WinSW wrapper, virtual account NT SERVICE\<name>).

.DESCRIPTION
Copies the single-file build (dist\edge-listener.cjs, `npm run build:edge`) and the WinSW executable into
-InstallDir, creates the data directory (the spool) writable only by the service's own virtual account
(NT SERVICE\<ServiceName>) and the administrators, stores the secret files readable only by them, checks the settings with `config check`
BEFORE installing anything into the service manager, then installs and starts the service.
Run it again to update: it stops the service, replaces the files and starts it (the spool is kept).
docs/edge-install.md describes every step and how to get WinSW (NuGet package "WinSW", or its releases).

.EXAMPLE
.\install-service.ps1 -WinSWPath .\WinSW-x64.exe -BundlePath ..\..\..\dist\edge-listener.cjs `
    -ConfigFile C:\setup\edge.json -SiteSecretFile C:\setup\site-secret.txt -OpenFirewall -AllowedClients 192.168.10.0/24
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)] [string] $WinSWPath,
    [string] $BundlePath = (Join-Path $PSScriptRoot '..\..\..\dist\edge-listener.cjs'),
    [string] $NodePath,
    [string] $ServiceName = 'smtp-graph-bridge-edge',
    [string] $InstallDir = (Join-Path $env:ProgramFiles 'smtp-graph-bridge'),
    [string] $DataDir = (Join-Path $env:ProgramData 'smtp-graph-bridge'),
    # JSON settings file (docs/config-edge.md); copied next to the data directory. No secrets in it.
    [string] $ConfigFile,
    # Files holding the secrets; copied into <DataDir>\secrets, readable by the service and administrators only.
    [Parameter(Mandatory = $true)] [string] $SiteSecretFile,
    [string] $FunctionKeyFile,
    # Adds an inbound firewall rule for the SMTP port(s), limited to -AllowedClients when given.
    [switch] $OpenFirewall,
    [string[]] $AllowedClients,
    [int[]] $SmtpPorts = @(2525),
    [switch] $NoStart
)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'EdgeService.psm1') -Force

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    throw 'Run this script in an elevated PowerShell (Run as administrator).'
}
if (-not $NodePath) { $NodePath = (Get-Command node.exe -ErrorAction Stop).Source }
$nodeVersion = (& $NodePath --version)
if ($nodeVersion -notmatch '^v(2[0-9]|[3-9][0-9])\.') { throw "Node.js 20 or later is needed; $NodePath is $nodeVersion" }
foreach ($file in @($WinSWPath, $BundlePath, $SiteSecretFile) + @($ConfigFile, $FunctionKeyFile | Where-Object { $_ })) {
    if (-not (Test-Path -LiteralPath $file -PathType Leaf)) { throw "File not found: $file" }
}

$exe = Join-Path $InstallDir "$ServiceName.exe"
$existing = Get-Service -Name $ServiceName -ErrorAction SilentlyContinue
if ($existing -and $existing.Status -ne 'Stopped') {
    Write-Host "Stopping $ServiceName to update it (the spool is kept)"
    & $exe stop | Out-Host
}

# Files: install directory (read-only for the service), data directory and secrets (service account only).
$secretsDir = Join-Path $DataDir 'secrets'
$logDir = Join-Path $DataDir 'logs'
foreach ($dir in @($InstallDir, $DataDir, $secretsDir, $logDir)) { New-Item -ItemType Directory -Force -Path $dir | Out-Null }
Copy-Item -LiteralPath $BundlePath -Destination (Join-Path $InstallDir 'edge-listener.cjs') -Force
Copy-Item -LiteralPath $WinSWPath -Destination $exe -Force
$account = Get-EdgeServiceAccount -ServiceName $ServiceName
# Administrators and SYSTEM only until the service exists (its virtual account resolves only then), so the
# secrets copied below are never readable by anyone else, not even for a moment.
foreach ($dir in @($DataDir, $secretsDir)) {
    & icacls.exe @(Get-EdgeDataAclArguments -Path $dir) | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "icacls failed on $dir" }
}

$siteSecretTarget = Join-Path $secretsDir 'site-secret'
Copy-Item -LiteralPath $SiteSecretFile -Destination $siteSecretTarget -Force
$functionKeyTarget = $null
if ($FunctionKeyFile) {
    $functionKeyTarget = Join-Path $secretsDir 'function-key'
    Copy-Item -LiteralPath $FunctionKeyFile -Destination $functionKeyTarget -Force
}
$configTarget = $null
if ($ConfigFile) {
    $configTarget = Join-Path $DataDir 'edge.json'
    Copy-Item -LiteralPath $ConfigFile -Destination $configTarget -Force
}

$environment = Get-EdgeServiceEnvironment -DataDir $DataDir -ConfigFile $configTarget -SiteSecretFile $siteSecretTarget -FunctionKeyFile $functionKeyTarget
$bundle = Join-Path $InstallDir 'edge-listener.cjs'

# Pre-flight: the same settings the service will get; every problem is listed and nothing is installed.
$saved = @{}
foreach ($name in $environment.Keys) { $saved[$name] = [Environment]::GetEnvironmentVariable($name); [Environment]::SetEnvironmentVariable($name, $environment[$name]) }
try {
    & $NodePath $bundle config check | Out-Host
    if ($LASTEXITCODE -ne 0) { throw 'The configuration has problems (listed above); fix them and run the installer again.' }
} finally {
    foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
}

$xml = New-EdgeServiceXml -ServiceName $ServiceName -NodePath $NodePath -BundlePath $bundle -DataDir $DataDir -LogDir $logDir -Environment $environment
[System.IO.File]::WriteAllText((Join-Path $InstallDir "$ServiceName.xml"), $xml, (New-Object System.Text.UTF8Encoding($false)))

if (-not $existing) {
    & $exe install | Out-Host
    if ($LASTEXITCODE -ne 0) { throw "WinSW could not install the service $ServiceName" }
}
# The account, set through the service manager itself whatever the WinSW version makes of <serviceaccount>
# (also moves a service installed by an older version of this script off LocalService). No password: virtual.
& sc.exe config $ServiceName obj= $account | Out-Host
if ($LASTEXITCODE -ne 0) { throw "sc.exe could not set the account $account on $ServiceName" }
& icacls.exe @(Get-EdgeDataAclArguments -Path $DataDir -Access Modify -Account $account) | Out-Null
if ($LASTEXITCODE -ne 0) { throw "icacls failed on $DataDir" }
& icacls.exe @(Get-EdgeDataAclArguments -Path $secretsDir -Access Read -Account $account) | Out-Null
if ($LASTEXITCODE -ne 0) { throw "icacls failed on $secretsDir" }
if ($OpenFirewall) {
    Get-NetFirewallRule -DisplayName "$ServiceName SMTP" -ErrorAction SilentlyContinue | Remove-NetFirewallRule
    $rule = @{ DisplayName = "$ServiceName SMTP"; Direction = 'Inbound'; Protocol = 'TCP'; LocalPort = $SmtpPorts; Action = 'Allow'; Program = $NodePath }
    if ($AllowedClients) { $rule.RemoteAddress = $AllowedClients }
    New-NetFirewallRule @rule | Out-Null
}
if (-not $NoStart) {
    & $exe start | Out-Host
    Start-Sleep -Seconds 3
    Get-Service -Name $ServiceName | Format-Table -AutoSize Name, Status, StartType | Out-Host
}
Write-Host "Installed. Logs: $logDir. Queue: & '$NodePath' '$bundle' queue list --data-dir '$DataDir'"
