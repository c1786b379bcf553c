#!/usr/bin/env bash
# Image test 2: one byte flipped in the root partition (inside the first
# block of a file the boot must read, by default /usr/lib/systemd/systemd)
# -> dm-verity refuses the block, the kernel panics (fail closed) and the
# node never answers.
set -euo pipefail
export T_NAME=tamper-test
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
timeout_s="${VE_BOOT_TIMEOUT_S:-900}"
target="${VE_TAMPER_FILE:-/usr/lib/systemd/systemd}"
t_setup tamper

# Where does $target start inside the EROFS image? dump.erofs prints the
# file's extents with their physical byte offsets (uncompressed EROFS).
phys=$(dump.erofs --path="$target" -e "$VE_IMAGE_OUT/root.erofs" 2>/dev/null \
	| awk '/^ *0:/ {split($0, a, ":"); print a[3]; exit}' | grep -oE '[0-9]+' | head -n1 || true)
[[ "$phys" =~ ^[0-9]+$ ]] || fail "cannot locate $target in root.erofs"
part_start=$(sfdisk --json "$raw" | python3 -c 'import json,sys; p=json.load(sys.stdin)["partitiontable"]["partitions"]; print([x for x in p if x["name"]=="ve-root-a"][0]["start"])')
off=$(( part_start * 512 + phys + 0x100 ))
cp --sparse=always "$raw" "$dir/disk.raw"
old=$(od -An -tx1 -j "$off" -N1 "$dir/disk.raw" | tr -d ' ')
new=$(printf '%02x' $(( 0x$old ^ 0x01 )))
printf '%b' "\\x$new" | dd of="$dir/disk.raw" bs=1 seek="$off" conv=notrunc status=none
t_log "flipped byte at disk offset $off ($target at root offset $phys): $old -> $new"
cmp -s "$raw" "$dir/disk.raw" && fail "the copy is unchanged"

vm_start "$dir" "$dir/disk.raw"
if wait_status "$timeout_s"; then
	fail "the node answered on a tampered root: $STATUS_JSON"
fi
vm_alive && fail "no fail-closed stop within ${timeout_s}s (qemu still running)"
secs=$(( $(date +%s) - VM_T0 ))
tr -d '\r' < "$VM_SERIAL" | grep -aqE 'device-mapper: verity.*(data block [0-9]+ is corrupted|corrupted)' \
	|| fail "no dm-verity corruption report on the console"
tr -d '\r' < "$VM_SERIAL" | grep -aqE 'Kernel panic' || fail "the kernel did not stop"
tr -d '\r' < "$VM_SERIAL" | grep -aE 'device-mapper: verity' | head -n 2 >&2
echo "tamper_stop_s=$secs" > "${VE_IMAGE_RESULTS:-/dev/null}"
t_log "PASS (verity refused the block, kernel stopped after ${secs}s, nothing served)"
