#!/usr/bin/env bash
# Every benchmark, one after the other on this machine; each prints one JSON line of figures.
# Pass names to run a subset: `npm run bench -- compile catalog`.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
eval "$(bash scripts/setup.sh)"
export NEXUS_PULUMI_DIR PATH="$NEXUS_PULUMI_DIR:$ROOT/node_modules/.bin:$PATH"
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(compile catalog catalog-refresh preview reconcile gitops drift)
for name in "${names[@]}"; do
  file="scripts/bench/$name.ts"
  [ -f "$file" ] || { echo "no benchmark $file" >&2; exit 1; }
  echo "== $name" >&2
  node --expose-gc --import tsx "$file"
done
