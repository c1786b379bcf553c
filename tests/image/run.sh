#!/usr/bin/env bash
# Runs the image boot tests (qemu + OVMF Secure Boot + swtpm, TCG).
#
#   tests/image/run.sh [--no-build] [boot] [tamper] [sig] [policy] [ab] [debug]
#
# Without test names: boot and tamper (the set tools/test.sh runs when
# VE_IMAGE_TESTS=1); VE_IMAGE_TESTS=all adds the firmware signature test
# (sig, issue test 3), the data partition's signed PCR policy (policy, test
# 5), the A/B update with fallback (ab, test 4: three more test builds
# and about ten cold boots) and the debug variant (debug: one more build
# and boot). Builds the image first (image/build) unless
# --no-build. Each test has its own hard timeout (VE_BOOT_TIMEOUT_S, default
# 900 s per boot) and the whole run is bounded by VE_IMAGE_RUN_TIMEOUT_S
# (3000 s; 10800 s when policy or ab runs).
# Prints one line per test and ends with "image: N passed, N failed".
# Per-test figures go to $VE_IMAGE_WORK/results/<test>.env.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work="${VE_IMAGE_WORK:-$HOME/.cache/virtengine/image}"
build=1
tests=()
for a in "$@"; do
	case "$a" in
	--no-build) build=0 ;;
	boot | tamper | sig | policy | ab | debug) tests+=("$a") ;;
	*) echo "usage: tests/image/run.sh [--no-build] [boot] [tamper] [sig] [policy] [ab] [debug]" >&2; exit 2 ;;
	esac
done
if [ "${#tests[@]}" -eq 0 ]; then
	tests=(boot tamper)
	[ "${VE_IMAGE_TESTS:-}" = all ] && tests+=(sig policy ab debug)
fi
default_timeout=3000
case " ${tests[*]} " in *" policy "* | *" ab "* | *" debug "*) default_timeout=10800 ;; esac
run_timeout="${VE_IMAGE_RUN_TIMEOUT_S:-$default_timeout}"
t_end=$(( $(date +%s) + run_timeout ))
mkdir -p "$work/results"
passed=0
failed=0
if [ "$build" -eq 1 ]; then
	t0=$(date +%s)
	# VE_IMAGE_BIN_DIR: a bazel-bin that already holds ve-node and vectl
	# (tools/test.sh passes its own); otherwise image/build runs Bazel.
	build_args=()
	if [ -n "${VE_IMAGE_BIN_DIR:-}" ]; then
		mkdir -p "$work/test-bin"
		cp "$VE_IMAGE_BIN_DIR/src/node/ve-node" "$VE_IMAGE_BIN_DIR/src/cli/vectl" "$work/test-bin/"
		build_args=(--bin-dir "$work/test-bin")
	fi
	# --keep-rootfs: the extra builds of the A/B and debug tests reuse the
	# configured root.
	case " ${tests[*]} " in *" ab "* | *" debug "*) build_args+=(--keep-rootfs) ;; esac
	if timeout --kill-after=30 1800 "$repo/image/build" "${build_args[@]}" > "$work/results/build.log" 2>&1; then
		echo "build_s=$(( $(date +%s) - t0 ))" > "$work/results/build.env"
		echo "image: build PASSED ($(( $(date +%s) - t0 ))s)"
	else
		echo "image: build FAILED (log: $work/results/build.log)"
		tail -n 20 "$work/results/build.log"
		echo "image: 0 passed, $(( ${#tests[@]} + 1 )) failed"
		exit 1
	fi
fi
for t in "${tests[@]}"; do
	left=$(( t_end - $(date +%s) ))
	if [ "$left" -le 60 ]; then
		echo "image: $t NOT RUN (run time budget used up)"
		failed=$((failed + 1))
		continue
	fi
	t0=$(date +%s)
	if VE_IMAGE_RESULTS="$work/results/$t.env" timeout --kill-after=30 "$left" \
		"$here/${t}_test.sh" > "$work/results/$t.log" 2>&1; then
		echo "image: $t PASSED ($(( $(date +%s) - t0 ))s)"
		passed=$((passed + 1))
	else
		echo "image: $t FAILED ($(( $(date +%s) - t0 ))s, log: $work/results/$t.log)"
		tail -n 25 "$work/results/$t.log"
		failed=$((failed + 1))
	fi
done
echo "image: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
