#!/usr/bin/env bash
# The DEBUG variant (image/build --debug): built from the same inputs as the
# production image, it boots with Secure Boot and the TPM, gives a root
# shell on the serial console (autologin) and runs the node; it is clearly
# named (image_id virtengine-debug, "variant": "debug", DEBUG in the boot
# banner) and its PCR 11 differs from the production image's, so an
# attested chain does not admit it unless governance approves that
# measurement (vectl measurement propose refuses it without
# --allow-debug-image: src/cli gov_args_test).
set -euo pipefail
export T_NAME=debug-test
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
timeout_s="${VE_BOOT_TIMEOUT_S:-900}"
t_setup debug
work="$VE_IMAGE_WORK_DIR"
out_debug="$work/out-debug"

# ---- build (the production build's binaries; its root when kept) ----------------
tb=$(date +%s)
reuse=0
[ -f "$work/rootfs.meta/kver" ] && reuse=1
VE_IMAGE_REUSE_ROOTFS=$reuse "$repo/image/build" --debug --bin-dir "$VE_IMAGE_OUT/bin" \
	--out "$out_debug" > "$dir/build.log" 2>&1 || { tail -n 20 "$dir/build.log" >&2; fail "debug build failed"; }
build_s=$(( $(date +%s) - tb ))
dm() { python3 -c "import json; m=json.load(open('$out_debug/manifest.json')); print($1)"; }
[ "$(dm 'm["image_id"]')" = virtengine-debug ] || fail "debug manifest image_id is $(dm 'm["image_id"]')"
[ "$(dm 'm["variant"]')" = debug ] || fail "debug manifest variant is $(dm 'm["variant"]')"
[ "$(manifest_get 'm["variant"]')" = production ] || fail "the production manifest does not say variant production"
pcr_debug=$(dm 'm["measurements"]["pcr11_running"]')
pcr_prod=$(manifest_get 'm["measurements"]["pcr11_running"]')
[ "$pcr_debug" != "$pcr_prod" ] || fail "the debug image has the production image's PCR 11"
t_log "built in ${build_s}s: PCR 11 $pcr_debug (production: $pcr_prod)"

# ---- boot ---------------------------------------------------------------------------
overlay "$out_debug/virtengine-$version.raw" "$dir/disk.qcow2"
vm_start "$dir" "$dir/disk.qcow2"
wait_serial "Welcome to .*VirtEngine Appliance $version DEBUG" 600 || fail "no DEBUG boot banner"
wait_serial 'root@virtengine:~#|virtengine login: root \(automatic login\)' "$timeout_s" \
	|| fail "no root shell on the serial console"
t_log "serial console: $(tr -d '\r' < "$VM_SERIAL" | grep -aoE 'virtengine login: root \(automatic login\)|root@virtengine:~#' | head -n1)"
wait_status "$timeout_s" || fail "the node did not answer within ${timeout_s}s"
got=$(tr -d '\r' < "$VM_SERIAL" | grep -aoE 've-measurement: pcr11=sha256:[0-9a-f]{64}' | head -n1 | sed 's/.*sha256://')
[ "$got" = "$pcr_debug" ] || fail "guest PCR 11 $got is not the debug prediction $pcr_debug"
t_log "node up after ${VM_UP_S}s; guest PCR 11 = the debug prediction"
{
	echo "debug_build_s=$build_s"
	echo "debug_boot_to_status_s=$VM_UP_S"
	echo "debug_pcr11=$pcr_debug"
} > "${VE_IMAGE_RESULTS:-/dev/null}"
t_log "PASS (root console on the debug image, node up, PCR 11 differs from production)"
