#!/usr/bin/env bash
# Builds the Pulumi CLI from Go modules at one pinned release, once per machine.
# `go install` refuses modules with replace directives, so a small wrapper module requires
# pkg/v3 and sdk/v3 at the same release and copies the non-relative replaces pkg/v3 needs.
# Prints the directory that holds `pulumi` and the `pulumi-resource-pulumi-nodejs` launcher.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VERSION="${NEXUS_PULUMI_VERSION:-$(node -p "require('$ROOT/package.json').nexus.pulumiVersion")}"
CACHE="${NEXUS_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/nexus}"
OUT="$CACHE/pulumi-v$VERSION"
BIN="$OUT/bin"

log() { echo "[build-pulumi] $*" >&2; }

# A pulumi of the pinned version already on PATH is used as it is.
if command -v pulumi >/dev/null 2>&1 && [ "$(pulumi version 2>/dev/null)" = "v$VERSION" ]; then
  dirname "$(command -v pulumi)"
  exit 0
fi

if [ -x "$BIN/pulumi" ] && [ "$("$BIN/pulumi" version 2>/dev/null)" = "v$VERSION" ]; then
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null || { log "Go is needed to build the Pulumi CLI (https://go.dev/doc/install)"; exit 1; }

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

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
MOD
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

# The dynamic-provider launcher, as the Node.js SDK ships it: it runs the provider that
# @pulumi/pulumi carries, from the program's own node_modules.
cat > "$BIN/pulumi-resource-pulumi-nodejs" <<'SH'
#!/bin/sh
exec node "$PULUMI_NODEJS_DYNAMIC_PROVIDER_DIR/dynamic-provider/index.js" "$@" 2>/dev/null || exec node ./node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js "$@"
SH
chmod +x "$BIN/pulumi-resource-pulumi-nodejs"
log "built $BIN/pulumi ($("$BIN/pulumi" version))"
echo "$BIN"
