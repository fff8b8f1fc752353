#!/usr/bin/env bash
# Installs the Bicep CLI into .ci/tools/bicep/bicep, or $BRIDGE_TOOLS_DIR/bicep/bicep (idempotent).
# `npm run setup:test-tools` runs it.
#
# WHY NuGet: the build machines reach only NuGet, npm and Debian; `az bicep install` and the GitHub releases
# download from elsewhere and fail. The NuGet package Azure.Bicep.CommandLine.linux-x64 carries the
# self-contained binary at tools/bicep (docs/design/platform-facts.md, "Bicep offline"). We let `dotnet restore` fetch it through a
# throwaway project with <PackageDownload>, which uses the machine's ordinary NuGet configuration.
set -euo pipefail

BICEP_VERSION="${BICEP_VERSION:-0.49.2}"
repo_root="$(cd "$(dirname "$0")/../.." && pwd)"
tools_dir="${BRIDGE_TOOLS_DIR:-$repo_root/.ci/tools}"
bicep_bin="$tools_dir/bicep/bicep"

if [ -x "$bicep_bin" ] && "$bicep_bin" --version 2>/dev/null | grep -q "Bicep CLI version $BICEP_VERSION "; then
  echo "bicep $BICEP_VERSION already at $bicep_bin"
  exit 0
fi

# The throwaway project targets the SDK's own framework so restore needs no extra targeting pack.
sdk_major="$(dotnet --version | cut -d. -f1)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat >"$work/fetch-bicep.csproj" <<CSPROJ
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net${sdk_major}.0</TargetFramework>
  </PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="Azure.Bicep.CommandLine.linux-x64" Version="[$BICEP_VERSION]" />
  </ItemGroup>
</Project>
CSPROJ

packages="$work/packages"
if ! log="$(dotnet restore "$work/fetch-bicep.csproj" --packages "$packages" -v quiet 2>&1)"; then
  echo "$log" >&2
  echo "get-bicep: dotnet restore of Azure.Bicep.CommandLine.linux-x64 $BICEP_VERSION failed" >&2
  exit 1
fi

src="$packages/azure.bicep.commandline.linux-x64/$BICEP_VERSION/tools/bicep"
if [ ! -f "$src" ]; then
  echo "get-bicep: restore finished but $src is missing" >&2
  exit 1
fi
mkdir -p "$tools_dir/bicep"
install -m 0755 "$src" "$bicep_bin"
"$bicep_bin" --version
