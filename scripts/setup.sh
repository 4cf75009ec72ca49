#!/usr/bin/env bash
# Installs what Nexus needs on a fresh machine: git and ssh-keygen, npm packages, the Pulumi CLI
# (built from Go modules) and, when asked, Debian's chromium for browser tests. Safe to run
# again: each step is skipped when its result is already there. Prints `export` lines for the tool paths.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
log() { echo "[setup] $*" >&2; }

# git (the GitHub stand-in serves its repositories with `git http-backend`; tests clone and push)
# and ssh-keygen (tests make SSH-signed commits), from Debian's packages when missing.
missing=""
command -v git >/dev/null 2>&1 || missing="$missing git"
command -v ssh-keygen >/dev/null 2>&1 || missing="$missing openssh-client"
if [ -n "$missing" ]; then
  log "installing$missing from Debian's packages"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >&2
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >&2
fi

# npm packages, reinstalled only when the lockfile changed since the last install.
stamp="node_modules/.nexus-lock-hash"
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" > "$stamp"
fi

PULUMI_DIR="$(bash scripts/build-pulumi.sh)"
echo "export NEXUS_PULUMI_DIR='$PULUMI_DIR'"

if [ "${NEXUS_NEED_CHROMIUM:-0}" = "1" ] && [ ! -x /usr/bin/chromium ]; then
  log "installing chromium from Debian's packages"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >&2
fi

# git, ssh-keygen and gpg: the signed-commit tests make real keys and real signed commits with
# them (Nexus itself verifies signatures in process and needs none of them).
missing=()
command -v git >/dev/null || missing+=(git)
command -v ssh-keygen >/dev/null || missing+=(openssh-client)
command -v gpg >/dev/null || missing+=(gnupg)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]} from Debian's packages"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >&2
fi
