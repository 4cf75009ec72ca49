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

# One test process per top-level area: process-wide state of one area (Pulumi's runtime and its
# mocks, module caches) never reaches another's tests; one coverage report over all of them.
areas=(functions infra portal scripts stacks)
out="$(mktemp)"
set +e
c8 --reporter=text-summary --reporter=lcov --reports-dir=coverage bash -c '
  rc=0
  for area in "$@"; do
    echo "[test] tests/$area"
    tsx node_modules/uvu/bin.js "tests/$area" "\.test\.ts$" -i helpers -i fixtures || rc=1
  done
  exit $rc' _ "${areas[@]}" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
set -e
plain="$(sed 's/\x1b\[[0-9;]*m//g' "$out")"
sum() { echo "$plain" | awk -v k="$1" '$1 == k {s += $2; n++} END {if (n) print s}'; }
total=$(sum 'Total:')
passed=$(sum 'Passed:')
skipped=$(sum 'Skipped:')
finished=$(echo "$plain" | grep -c '^ *Total:')
rm -f "$out"
# An area that stopped before its summary counts as a failure, never as nothing to run.
if [ -z "$total" ] || [ "$finished" -lt "${#areas[@]}" ]; then echo "${passed:-0} passed, 1 failed (${finished} of ${#areas[@]} test areas finished)"; exit 1; fi
failed=$(( total - passed - ${skipped:-0} ))
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo "${passed} passed, ${failed} failed"
exit "$rc"
