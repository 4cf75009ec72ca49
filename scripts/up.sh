#!/usr/bin/env bash
# Starts Nexus on its embedded local default: Azurite, the ARM sandbox, the API on $PORT (7070),
# and the reconcile, Resource Graph and inbox timers. Installs what is missing first.
# Ctrl-C stops everything it started; data stays in .nexus/ for the next run.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
eval "$(bash scripts/setup.sh)"
export NEXUS_PULUMI_DIR PATH="$NEXUS_PULUMI_DIR:$ROOT/node_modules/.bin:$PATH"
exec node --import tsx scripts/up.ts "$@"
