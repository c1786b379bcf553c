#!/usr/bin/env bash
# The static gate: clang-format (no diff), clang-tidy (.clang-tidy, every
# finding an error), cppcheck, and a scan for calls the security policy
# forbids (shell strings, non-CSPRNG randomness). Exit 0 only when clean.
#
#   tools/lint.sh            lint every tracked C++ file
#   tools/lint.sh FILE...    lint the named files (tools/lint/ tests use this)
#
# clang-tidy results are cached per file under ~/.cache/virtengine/lint, keyed
# by the file, every project header and the configuration, so an unchanged
# tree is checked in seconds. Generated protobuf headers come from bazel-bin:
# run after `bazel build //...` (tools/test.sh does).
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "$#" -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(git ls-files '*.cc' '*.h' | grep -v '/testdata/' | grep -v '^bazel/shims/')
fi
[ "${#files[@]}" -gt 0 ] || { echo "lint: no files"; exit 0; }

fail=0

# 1. formatting
fmt_bad=()
for f in "${files[@]}"; do
  if ! clang-format-14 --style=file --dry-run --Werror "$f" >/dev/null 2>&1; then
    fmt_bad+=("$f")
  fi
done
if [ "${#fmt_bad[@]}" -gt 0 ]; then
  echo "lint: clang-format: not formatted (run clang-format-14 -i): ${fmt_bad[*]}"
  fail=1
fi

# 2. forbidden calls outside the allowlisted runner (security/exec) and tests
forbidden='\b(system|popen|execl|execlp|execvp|execv|execve)[[:space:]]*\(|\brand[[:space:]]*\(|\bsrand[[:space:]]*\(|std::rand\b|mt19937|random_device'
for f in "${files[@]}"; do
  case "$f" in security/exec/*|*_test.cc) continue ;; esac
  if grep -nE "$forbidden" "$f" | grep -v 'NOLINT(forbidden-call)' >/tmp/ve-lint-forbid.$$; then
    sed "s|^|lint: forbidden call: $f:|" /tmp/ve-lint-forbid.$$
    fail=1
  fi
done
rm -f /tmp/ve-lint-forbid.$$

# 3. clang-tidy, cached
cache="${HOME}/.cache/virtengine/lint"
mkdir -p "$cache"
# Generated headers (*.pb.h): bazel-bin, or VE_BAZEL_BIN when building with
# another output base. Flags are relative to the tree, so a fresh clone at
# another path (CI) reuses the cache.
bin="${VE_BAZEL_BIN:-bazel-bin}"
flags=(-std=c++17 -I. -I"$bin" -isystem /usr/include/tss2 -isystem /usr/include/libxml2 -DNOMINMAX -DGTEST_HAS_PTHREAD=1)
# The generated-header directory is left out of the key: where bazel-bin
# lives does not change what clang-tidy finds.
ctx=$( (cat .clang-tidy; echo "${flags[*]}" | sed "s|-I$bin ||") | sha256sum | cut -c1-64)
tidy_one() {
  local f="$1" key out
  # Key: configuration, the file, and the project headers it includes
  # directly (for generated *.pb.h, their .proto). A change deeper in the
  # include graph does not invalidate the entry; the full gate runs cold
  # whenever ~/.cache/virtengine/lint is cleared.
  key=$( {
    echo "$ctx"
    cat "$f"
    grep -oE '^#include "[^"]+"' "$f" | sed 's/^#include "//; s/"$//' |
      while read -r inc; do
        case "$inc" in
          *.grpc.pb.h) inc="${inc%.grpc.pb.h}.proto" ;;
          *.pb.h) inc="${inc%.pb.h}.proto" ;;
        esac
        [ -f "$inc" ] && cat "$inc"
      done
  } | sha256sum | cut -c1-64)
  [ -f "$cache/$key.ok" ] && return 0
  if out=$(clang-tidy-14 --quiet "$f" -- "${flags[@]}" 2>&1); then
    touch "$cache/$key.ok"
    return 0
  fi
  echo "$out" | grep -E 'warning:|error:' | grep -v '^[0-9]* warnings' | sed "s|^|lint: clang-tidy: |"
  return 1
}
export -f tidy_one
export ctx cache
export flags_str="${flags[*]}"
tidy_fail=0
for f in "${files[@]}"; do
  [[ "$f" == *.cc ]] || continue
  printf '%s\0' "$f"
done | xargs -0 -r -n1 -P"$(nproc)" bash -c 'flags=($flags_str); tidy_one "$1"' _ || tidy_fail=1
[ "$tidy_fail" -eq 0 ] || fail=1

# 4. cppcheck (finds a few things clang-tidy does not: leaks, bounds)
ccs=()
for f in "${files[@]}"; do [[ "$f" == *.cc ]] && ccs+=("$f"); done
if [ "${#ccs[@]}" -gt 0 ]; then
  if ! cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
      --inline-suppr --std=c++17 --language=c++ --library=googletest \
      --suppress=missingIncludeSystem --suppress=unknownMacro -I. "${ccs[@]}" 2>&1 | sed 's/^/lint: cppcheck: /'; then
    fail=1
  fi
  # (pipefail: the pipeline's status is cppcheck's)
fi

if [ "$fail" -ne 0 ]; then
  echo "lint: FAILED"
  exit 1
fi
echo "lint: ok (${#files[@]} files)"
