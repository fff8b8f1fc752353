#!/usr/bin/env bash
# `npm run setup:test-tools`: installs what the optional test groups need (README.md, "Tests";
# test/helpers/tool-probe.ts), so that `BRIDGE_TEST_ALL=1 npm test` runs every test.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: npm run setup:test-tools [-- --help]

Installs what the optional test groups need, so that `BRIDGE_TEST_ALL=1 npm test` runs every test:

  swaks, smtp-source, chromium, nginx, strace, unzip
      Debian packages swaks, postfix (left unconfigured), chromium, nginx, strace, unzip.
      As root: apt-get update and apt-get install. Otherwise: prints the sudo command to run.
  bicep, pwsh
      The Bicep CLI and PowerShell from NuGet through `dotnet` (needs the .NET SDK), into .ci/tools/
      (or BRIDGE_TOOLS_DIR). No root needed. infra/tools/get-bicep.sh and get-pwsh.sh do the work.
  mime-corpus
      Third-party MIME files under their own licences: not installed by this command. The tests read
      them from ../shared/corpus/mime beside the checkout (or BRIDGE_TEST_CORPUS_DIR); CI has them.

Safe to run again: what is there already is left alone. Exits non-zero when something could not be
installed, after trying everything else.
EOF
}

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  "") ;;
  *) echo "setup:test-tools: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
esac

cd "$(dirname "$0")/.."
failed=()

# ---- system packages (Debian) ----
# Debian puts smtp-source and nginx in /usr/sbin, which a non-root PATH lacks: look there too.
has() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/local/sbin/$1" ]; }
need=()
has swaks || need+=(swaks)
has smtp-source || need+=(postfix)
has chromium || need+=(chromium)
has nginx || need+=(nginx)
has strace || need+=(strace)
has unzip || need+=(unzip)

if [ ${#need[@]} -eq 0 ]; then
  echo "system packages: swaks, postfix (smtp-source), chromium, nginx, strace, unzip are installed"
elif [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "system packages: installing ${need[*]}"
  apt-get update -qq
  # Postfix asks how to configure itself; "No configuration" leaves the machine's mail alone (the tests
  # and the benchmark only use its smtp-source / smtp-sink / a private instance).
  if command -v debconf-set-selections >/dev/null; then
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
    failed+=("apt-get install ${need[*]}")
else
  echo "system packages: missing ${need[*]}. Install them as root, for example:"
  echo "  echo 'postfix postfix/main_mailer_type select No configuration' | sudo debconf-set-selections"
  echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${need[*]}"
  failed+=("system packages (${need[*]}) need root")
fi

# ---- NuGet tools through dotnet, no root ----
if command -v dotnet >/dev/null; then
  bash infra/tools/get-bicep.sh || failed+=("Bicep CLI (infra/tools/get-bicep.sh)")
  bash infra/tools/get-pwsh.sh || failed+=("PowerShell (infra/tools/get-pwsh.sh)")
else
  echo "bicep, pwsh: the .NET SDK (dotnet) is missing; install it (https://learn.microsoft.com/dotnet/core/install/linux-debian), then run this again"
  failed+=("Bicep CLI and PowerShell need dotnet")
fi

# ---- the MIME corpus: reported, never fetched ----
corpus="${BRIDGE_TEST_CORPUS_DIR:-../shared/corpus/mime}"
if compgen -G "$corpus/*.eml" >/dev/null; then
  echo "mime-corpus: found at $corpus"
else
  echo "mime-corpus: not found at $corpus (third-party files, not part of the repository; set BRIDGE_TEST_CORPUS_DIR"
  echo "  to where you keep them, or leave the group to CI). npm test skips it and says so."
fi

if [ ${#failed[@]} -gt 0 ]; then
  printf 'setup:test-tools: not installed: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "setup:test-tools: done. BRIDGE_TEST_ALL=1 npm test runs every test group (mime-corpus needs the corpus, see above)."
