#!/usr/bin/env bash
# Every test: installs what is missing, type-checks, then runs all uvu suites under c8.
# Integration tests start their own Azurite and ARM sandbox on free loopback ports.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
# Exported, not a prefix of eval: the prefix would not reach the command substitution.
export NEXUS_NEED_CHROMIUM=1
eval "$(bash scripts/setup.sh)"
export NEXUS_PULUMI_DIR PATH="$NEXUS_PULUMI_DIR:$ROOT/node_modules/.bin:$PATH"

echo "[test] type-checking"
tsc --noEmit -p .

out="$(mktemp)"
set +e
c8 --reporter=text-summary --reporter=lcov --reports-dir=coverage \
  tsx node_modules/uvu/bin.js tests '\.test\.ts$' -i helpers -i fixtures 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
set -e
plain="$(sed 's/\x1b\[[0-9;]*m//g' "$out")"
total=$(echo "$plain" | awk '/Total:/ {print $2}' | tail -1)
passed=$(echo "$plain" | awk '/Passed:/ {print $2}' | tail -1)
skipped=$(echo "$plain" | awk '/Skipped:/ {print $2}' | tail -1)
rm -f "$out"
if [ -z "$total" ]; then echo "0 passed, 1 failed"; exit 1; fi
failed=$(( total - passed - ${skipped:-0} ))
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo "${passed} passed, ${failed} failed"
exit "$rc"
