#!/usr/bin/env bash
# The README's test command: installs what is missing, builds everything,
# runs the static gate and every Bazel test (unit, integration, security,
# fuzz-corpus replay), and ends with one line "N passed, N failed".
#
# Extra arguments go to `bazel test` (e.g. --config=asan).
set -uo pipefail
cd "$(dirname "$0")/.."

./tools/install.sh || { echo "0 passed, 1 failed"; exit 1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT

passed=0
failed=0

# Build first so the lint gate sees generated headers.
if ! bazel build "$@" //... 2>&1 | tee "$log"; then
  echo "test: build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

if ./tools/lint.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

bazel test "$@" //... 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

# Bazel's summary lines: "//pkg:target   (cached) PASSED in 0.1s" etc.
p=$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "$log" || true)
f=$(grep -cE '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|FLAKY|NO STATUS|INCOMPLETE|FAILED TO BUILD)' "$log" || true)
passed=$((passed + p))
failed=$((failed + f))
if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
  # bazel failed without naming a failing test (build error, or no tests)
  failed=$((failed + 1))
fi
echo "${passed} passed, ${failed} failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
