<#
Parses every PowerShell script under the given folders with the PowerShell parser itself and fails on any
syntax error, so a script that would not even load never ships. Prints "N passed, N failed".
Run: pwsh -NoProfile -File infra/scripts/tests/Test-ScriptsParse.ps1 [-Path <folder>...]
#>
param([string[]] $Path = @((Join-Path $PSScriptRoot '..')))

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

$files = @($Path | ForEach-Object { Get-ChildItem -Path $_ -Recurse -Include '*.ps1', '*.psm1' -File } | Sort-Object FullName -Unique)
if ($files.Count -eq 0) { throw "No PowerShell scripts found under $($Path -join ', ')" }

$passed = 0
$failed = 0
foreach ($file in $files) {
    $tokens = $null
    $errors = $null
    [System.Management.Automation.Language.Parser]::ParseFile($file.FullName, [ref] $tokens, [ref] $errors) | Out-Null
    if ($errors.Count -eq 0) {
        $passed++
        Write-Output "ok   $($file.FullName)"
    } else {
        $failed++
        Write-Output "FAIL $($file.FullName)"
        foreach ($e in $errors) { Write-Output "       line $($e.Extent.StartLineNumber): $($e.Message)" }
    }
}
Write-Output "$passed passed, $failed failed"
exit $(if ($failed -gt 0) { 1 } else { 0 })
