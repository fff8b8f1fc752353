#!/usr/bin/env bash
# Installs PowerShell 7 into .ci/tools/pwsh, or $BRIDGE_TOOLS_DIR/pwsh (idempotent), for the parse check and
# the tests of infra/scripts and the Windows service scripts. `npm run setup:test-tools` runs it.
#
# WHY the dotnet tool: the build machines reach NuGet through `dotnet` but not Microsoft's package feeds or
# GitHub releases. 7.6.9 is pinned because a later 7.7 may need a newer .NET than the machine's SDK.
set -euo pipefail

PWSH_VERSION="${PWSH_VERSION:-7.6.9}"
repo_root="$(cd "$(dirname "$0")/../.." && pwd)"
tool_path="${BRIDGE_TOOLS_DIR:-$repo_root/.ci/tools}/pwsh"

if [ -x "$tool_path/pwsh" ] && [ "$("$tool_path/pwsh" -NoLogo -NoProfile -Command '$PSVersionTable.PSVersion.ToString()' 2>/dev/null)" = "$PWSH_VERSION" ]; then
  echo "pwsh $PWSH_VERSION already at $tool_path/pwsh"
  exit 0
fi

if [ -d "$tool_path" ]; then
  dotnet tool uninstall --tool-path "$tool_path" PowerShell >/dev/null 2>&1 || true
fi
if ! log="$(dotnet tool install --tool-path "$tool_path" PowerShell --version "$PWSH_VERSION" 2>&1)"; then
  echo "$log" >&2
  echo "get-pwsh: dotnet tool install PowerShell $PWSH_VERSION failed" >&2
  exit 1
fi
"$tool_path/pwsh" -NoLogo -NoProfile -Command '"pwsh " + $PSVersionTable.PSVersion.ToString()'
