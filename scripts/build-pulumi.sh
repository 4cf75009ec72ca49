#!/usr/bin/env bash
# Builds the Pulumi CLI from Go modules at one pinned release, once per machine.
# `go install` refuses modules with replace directives, so a small wrapper module requires
# pkg/v3 and sdk/v3 at the same release and copies the non-relative replaces pkg/v3 needs.
# Prints the directory that holds `pulumi` and the `pulumi-resource-pulumi-nodejs` launcher.
#   --launcher-only          only (re)write the launcher
#   NEXUS_PULUMI_VERSION     another release than package.json's nexus.pulumiVersion (the engine
#                            honours the same variable, stacks/engine/cli.ts)
#   NEXUS_TOOLS_DIR          cache folder (default ~/.cache/nexus)
#   NEXUS_PULUMI_NO_BUILD=1  exit 2 with the reason instead of building
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VERSION="${NEXUS_PULUMI_VERSION:-$(node -p "require('$ROOT/package.json').nexus.pulumiVersion")}"
CACHE="${NEXUS_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/nexus}"
OUT="$CACHE/pulumi-v$VERSION"
BIN="$OUT/bin"

log() { echo "[build-pulumi] $*" >&2; }

# The dynamic-provider launcher. The engine starts it in the program's directory, which for an
# inline Automation API program is a temporary folder with no node_modules, so the launcher does
# not rely on the working directory: it runs the provider host named by
# NEXUS_PULUMI_DYNAMIC_PROVIDER (the engine sets it to @pulumi/pulumi's
# cmd/dynamic-provider/index.js), else the one under ./node_modules (a program on disk), else the
# one in the checkout that wrote the launcher. Written on every run (it is cheap) so a fix to it
# never needs a rebuild of the CLI.
write_launcher() {
  mkdir -p "$BIN"
  cat > "$BIN/pulumi-resource-pulumi-nodejs.tmp" <<SH
#!/bin/sh
# Written by scripts/build-pulumi.sh: runs @pulumi/pulumi's Node.js dynamic-provider host.
HOST=""
for candidate in "\${NEXUS_PULUMI_DYNAMIC_PROVIDER:-}" \\
  "./node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js" \\
  "$ROOT/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js"; do
  if [ -n "\$candidate" ] && [ -f "\$candidate" ]; then HOST="\$candidate"; break; fi
done
if [ -z "\$HOST" ]; then
  echo "pulumi-resource-pulumi-nodejs: @pulumi/pulumi's cmd/dynamic-provider/index.js not found; set NEXUS_PULUMI_DYNAMIC_PROVIDER to its path" >&2
  exit 1
fi
# Providers that call a local HTTPS endpoint with a self-signed certificate trust its CA file.
if [ -z "\${NODE_EXTRA_CA_CERTS:-}" ] && [ -n "\${NEXUS_ARM_CA_FILE:-}" ]; then
  NODE_EXTRA_CA_CERTS="\$NEXUS_ARM_CA_FILE"; export NODE_EXTRA_CA_CERTS
fi
exec "\${NEXUS_NODE:-node}" "\$HOST" "\$@"
SH
  chmod +x "$BIN/pulumi-resource-pulumi-nodejs.tmp"
  mv "$BIN/pulumi-resource-pulumi-nodejs.tmp" "$BIN/pulumi-resource-pulumi-nodejs"
}

if [ "${1:-}" = "--launcher-only" ]; then
  write_launcher
  echo "$BIN"
  exit 0
fi

# A pulumi of the pinned version already on PATH is used as it is (linked into $BIN, so the one
# folder printed holds both the CLI and the launcher).
if command -v pulumi >/dev/null 2>&1 && [ "$(command -v pulumi)" != "$BIN/pulumi" ] \
  && [ "$(pulumi version 2>/dev/null)" = "v$VERSION" ]; then
  write_launcher
  ln -sf "$(command -v pulumi)" "$BIN/pulumi"
  echo "$BIN"
  exit 0
fi

if [ -x "$BIN/pulumi" ] && [ "$("$BIN/pulumi" version 2>/dev/null)" = "v$VERSION" ]; then
  write_launcher
  echo "$BIN"
  exit 0
fi

# NEXUS_PULUMI_NO_BUILD=1: use what is there or fail, never start a build (tests, CI images
# that must already hold the CLI).
if [ "${NEXUS_PULUMI_NO_BUILD:-0}" = "1" ]; then
  found="no pulumi on PATH"
  if command -v pulumi >/dev/null 2>&1; then found="$(command -v pulumi) is $(pulumi version 2>/dev/null || echo 'not answering')"; fi
  log "pulumi v$VERSION is neither on PATH ($found) nor built in $BIN, and NEXUS_PULUMI_NO_BUILD=1 forbids building it; unset NEXUS_PULUMI_NO_BUILD to build it"
  exit 2
fi

command -v go >/dev/null || { log "Go is needed to build the Pulumi CLI (https://go.dev/doc/install)"; exit 1; }

# The replace directives of pkg/v3's own go.mod that point at other modules (not at folders of
# its repository, such as ../sdk, which the sdk/v3 requirement stands for). Go ignores a
# dependency's replaces, so the wrapper module repeats them.
pkg_replaces() {
  local gomod
  gomod="$(go mod download -json "github.com/pulumi/pulumi/pkg/v3@v$VERSION" \
    | node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>console.log(JSON.parse(s).GoMod))')"
  awk '
    /^[ \t]*(\/\/.*)?$/ { next }
    /^replace[ \t]*\(/ { block = 1; next }
    block && /^\)/ { block = 0; next }
    block { line = $0 }
    !block && /^replace[ \t]/ { line = $0; sub(/^replace[ \t]+/, "", line) }
    line != "" {
      split(line, side, "=>"); target = side[2]; gsub(/^[ \t]+/, "", target)
      if (target !~ /^\.\.?\//) { gsub(/^[ \t]+/, "", line); print "replace " line }
      line = ""
    }
  ' "$gomod"
}

SRC="$OUT/src"
mkdir -p "$SRC" "$BIN"
cd "$SRC"
cat > go.mod <<MOD
module nexus.local/pulumi-cli

go 1.24

require (
	github.com/pulumi/pulumi/pkg/v3 v$VERSION
	github.com/pulumi/pulumi/sdk/v3 v$VERSION
)
MOD
log "copying pkg/v3's module replace directives"
replaces="$(pkg_replaces)"
if [ -n "$replaces" ]; then printf '\n%s\n' "$replaces" >> go.mod; log "$replaces"; fi
cat > tools.go <<'GO'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
GO

log "resolving modules for pulumi v$VERSION"
GOFLAGS=-mod=mod go mod tidy -e >&2 2>&1 || true
GOFLAGS=-mod=mod go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v$VERSION" >&2
log "building pulumi v$VERSION (several minutes on two cores)"
CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath \
  -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$VERSION" \
  -o "$BIN/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2
mv "$BIN/pulumi.tmp" "$BIN/pulumi"

write_launcher
log "built $BIN/pulumi ($("$BIN/pulumi" version))"
echo "$BIN"
