# Helpers of install-service.ps1 / uninstall-service.ps1, in a module so they can be tested on any OS
# (test/edge-listener/packaging runs them under PowerShell 7 on Linux). Works on Windows PowerShell 5.1 too.
Set-StrictMode -Version 3.0

function ConvertTo-XmlText([string] $Text) {
    return [System.Security.SecurityElement]::Escape($Text)
}

<#
.SYNOPSIS
Builds the WinSW configuration of the edge listener service.
.DESCRIPTION
WinSW (a small .NET service host) starts node.exe with the single-file build, restarts it when it fails,
rotates its log, and on stop sends Ctrl+C — which the listener treats like SIGTERM: graceful stop within
BRIDGE_SHUTDOWN_TIMEOUT_MS, the spool keeps everything else. It runs as its own virtual account,
NT SERVICE\<ServiceName> (Get-EdgeServiceAccount): unlike NT AUTHORITY\LocalService, which every LocalService
process shares, no other process holds it, so only this service can read the secrets and change the spool.
#>
function New-EdgeServiceXml {
    param(
        [Parameter(Mandatory = $true)] [string] $ServiceName,
        [Parameter(Mandatory = $true)] [string] $NodePath,
        [Parameter(Mandatory = $true)] [string] $BundlePath,
        [Parameter(Mandatory = $true)] [string] $DataDir,
        [Parameter(Mandatory = $true)] [string] $LogDir,
        [hashtable] $Environment = @{},
        [int] $StopTimeoutSeconds = 45
    )
    $envLines = foreach ($name in ($Environment.Keys | Sort-Object)) {
        if ($name -notmatch '^[A-Z][A-Z0-9_]*$') { throw "Not an environment variable name: $name" }
        '  <env name="{0}" value="{1}" />' -f $name, (ConvertTo-XmlText ([string] $Environment[$name]))
    }
    $lines = @(
        '<service>'
        "  <id>$(ConvertTo-XmlText $ServiceName)</id>"
        "  <name>smtp-graph-bridge edge listener ($(ConvertTo-XmlText $ServiceName))</name>"
        '  <description>Receives SMTP from copiers and applications and relays it to Microsoft 365 through the Graph API.</description>'
        "  <executable>$(ConvertTo-XmlText $NodePath)</executable>"
        '  <argument>--max-semi-space-size=1</argument>'
        "  <argument>$(ConvertTo-XmlText $BundlePath)</argument>"
        '  <argument>start</argument>'
        "  <workingdirectory>$(ConvertTo-XmlText $DataDir)</workingdirectory>"
        '  <startmode>Automatic</startmode>'
        '  <delayedAutoStart>true</delayedAutoStart>'
        '  <depend>Tcpip</depend>'
        "  <stoptimeout>$StopTimeoutSeconds sec</stoptimeout>"
        '  <onfailure action="restart" delay="5 sec" />'
        '  <onfailure action="restart" delay="30 sec" />'
        '  <resetfailure>1 hour</resetfailure>'
        '  <serviceaccount>'
        '    <domain>NT SERVICE</domain>'
        "    <user>$(ConvertTo-XmlText $ServiceName)</user>"
        '  </serviceaccount>'
        "  <logpath>$(ConvertTo-XmlText $LogDir)</logpath>"
        '  <log mode="roll-by-size">'
        '    <sizeThreshold>10240</sizeThreshold>'
        '    <keepFiles>8</keepFiles>'
        '  </log>'
    ) + @($envLines) + @('</service>')
    return ($lines -join "`r`n") + "`r`n"
}

<#
.SYNOPSIS
The environment the service gets: data directory, optional settings file and the secret files.
#>
function Get-EdgeServiceEnvironment {
    param(
        [Parameter(Mandatory = $true)] [string] $DataDir,
        [string] $ConfigFile,
        [string] $SiteSecretFile,
        [string] $FunctionKeyFile
    )
    $environment = @{ BRIDGE_DATA_DIR = $DataDir }
    if ($ConfigFile) { $environment.BRIDGE_CONFIG_FILE = $ConfigFile }
    if ($SiteSecretFile) { $environment.BRIDGE_SITE_SECRET_FILE = $SiteSecretFile }
    if ($FunctionKeyFile) { $environment.BRIDGE_FUNCTION_KEY_FILE = $FunctionKeyFile }
    return $environment
}

<#
.SYNOPSIS
Number of messages still waiting in a spool (queued, deferred or failed): uninstalling must not silently
strand undelivered mail.
#>
function Get-EdgeSpoolBacklog([Parameter(Mandatory = $true)] [string] $DataDir) {
    $messages = Join-Path (Join-Path $DataDir 'spool') 'messages'
    if (-not (Test-Path -LiteralPath $messages)) { return 0 }
    return @(Get-ChildItem -LiteralPath $messages -Filter '*.json' -File).Count
}

<#
.SYNOPSIS
The service's virtual account: NT SERVICE\<service name> (Windows creates it with the service; no password).
#>
function Get-EdgeServiceAccount([Parameter(Mandatory = $true)] [string] $ServiceName) {
    if ($ServiceName -notmatch '^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$') { throw "Not a service name: $ServiceName" }
    return "NT SERVICE\$ServiceName"
}

<#
.SYNOPSIS
icacls arguments for the data directory (-Access Modify) or the secrets directory (-Access Read).
.DESCRIPTION
Inheritance removed, so nothing from ProgramData (Users may read there) applies; Administrators (S-1-5-32-544)
and SYSTEM (S-1-5-18) keep full control; LocalService (S-1-5-19), which older versions of this installer
granted, is removed; without -Account (before the service exists, so its account does not resolve yet) nobody
else gets access, and with it the service's own account is the only other one.
#>
function Get-EdgeDataAclArguments {
    param(
        [Parameter(Mandatory = $true)] [string] $Path,
        [ValidateSet('Modify', 'Read')] [string] $Access = 'Modify',
        [string] $Account
    )
    $arguments = @($Path, '/inheritance:r', '/remove:g', '*S-1-5-19', '/grant:r', '*S-1-5-32-544:(OI)(CI)F', '*S-1-5-18:(OI)(CI)F')
    if ($Account) { $arguments += "${Account}:(OI)(CI)$(if ($Access -eq 'Modify') { 'M' } else { 'R' })" }
    return $arguments
}

Export-ModuleMember -Function New-EdgeServiceXml, Get-EdgeServiceEnvironment, Get-EdgeSpoolBacklog, Get-EdgeServiceAccount, Get-EdgeDataAclArguments
