#!/usr/bin/env bash
# The lint gate must fail on tools/lint/testdata/bad.cc and name each finding,
# and pass on tools/lint/testdata/good.cc.
set -uo pipefail
export HOME="${TEST_TMPDIR:-$(mktemp -d)}"   # private clang-tidy cache
lint=tools/lint.sh

out=$("$lint" tools/lint/testdata/bad.cc 2>&1)
rc=$?
echo "$out"
[ "$rc" -ne 0 ] || { echo "FAIL: lint accepted bad.cc"; exit 1; }
for want in 'forbidden call: .*rand\(' 'forbidden call: .*system\(' \
            'clang-tidy: .*readability-container-size-empty' \
            'clang-tidy: .*(cert|clang-analyzer|bugprone)' 'clang-format: not formatted'; do
  echo "$out" | grep -qE "$want" || { echo "FAIL: no finding matching '$want'"; exit 1; }
done

out=$("$lint" tools/lint/testdata/good.cc 2>&1) || { echo "$out"; echo "FAIL: lint rejected good.cc"; exit 1; }
echo "PASS"
