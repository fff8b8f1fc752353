#Requires -Version 5.1
<#
.SYNOPSIS
Stops and removes the smtp-graph-bridge edge listener service installed by install-service.ps1.

.DESCRIPTION
Stops the service (graceful: Ctrl+C, then up to the stop timeout), removes it from the service manager,
removes its firewall rule and the install directory. The data directory — the spool with any message not
yet delivered, the secrets and the logs — is kept unless -RemoveData is given, and even then only when the
spool is empty or -Force is added.

.EXAMPLE
.\uninstall-service.ps1
.\uninstall-service.ps1 -RemoveData
#>
[CmdletBinding()]
param(
    [string] $ServiceName = 'smtp-graph-bridge-edge',
    [string] $InstallDir = (Join-Path $env:ProgramFiles 'smtp-graph-bridge'),
    [string] $DataDir = (Join-Path $env:ProgramData 'smtp-graph-bridge'),
    [switch] $RemoveData,
    [switch] $Force
)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot 'EdgeService.psm1') -Force

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    throw 'Run this script in an elevated PowerShell (Run as administrator).'
}

$exe = Join-Path $InstallDir "$ServiceName.exe"
if (Get-Service -Name $ServiceName -ErrorAction SilentlyContinue) {
    if (Test-Path -LiteralPath $exe) {
        & $exe stop | Out-Host
        & $exe uninstall | Out-Host
    } else {
        Stop-Service -Name $ServiceName -ErrorAction SilentlyContinue
        & sc.exe delete $ServiceName | Out-Host
    }
}
Get-NetFirewallRule -DisplayName "$ServiceName SMTP" -ErrorAction SilentlyContinue | Remove-NetFirewallRule
foreach ($file in @("$ServiceName.exe", "$ServiceName.xml", 'edge-listener.cjs')) {
    $path = Join-Path $InstallDir $file
    if (Test-Path -LiteralPath $path) { Remove-Item -LiteralPath $path -Force }
}
if ((Test-Path -LiteralPath $InstallDir) -and -not (Get-ChildItem -LiteralPath $InstallDir -Force)) { Remove-Item -LiteralPath $InstallDir }

if ($RemoveData) {
    $backlog = Get-EdgeSpoolBacklog -DataDir $DataDir
    if ($backlog -gt 0 -and -not $Force) {
        throw "The spool in $DataDir still holds $backlog message(s) not delivered. Deliver them first (start the listener elsewhere on a copy), or add -Force to delete them."
    }
    Remove-Item -LiteralPath $DataDir -Recurse -Force
    Write-Host "Removed $ServiceName and its data directory."
} else {
    Write-Host "Removed $ServiceName. Kept $DataDir (spool, secrets, logs)."
}
