#!/usr/bin/env bash
# Image test 5: the data partition's TPM policy (literal PCR 7 + PCR 11
# signed by the image's PCR key). Three boots of one disk and one TPM, all
# with Secure Boot enforced:
#   1. the built image: first boot formats the data partition, enrolls the
#      TPM slot, the node comes up (its key is on the data partition);
#   2. a UKI whose command line differs (so PCR 11 differs) but that carries
#      the original .pcrsig (no valid signature for its PCR 11), re-signed
#      with the db key so the firmware runs it: the TPM refuses, the data
#      partition does NOT unlock, the node never answers;
#   3. the same changed UKI with a fresh .pcrsig signed by the PCR key: the
#      data partition unlocks (a UKI the key signed, not one literal PCR 11
#      value), the node answers with the key created in boot 1.
set -euo pipefail
export T_NAME=policy-test
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
timeout_s="${VE_BOOT_TIMEOUT_S:-900}"
refuse_s="${VE_POLICY_REFUSE_S:-420}"
t_setup policy
[ -s "$(pcr_key)" ] || fail "no PCR signing key at $(pcr_key) (build the image first, or set VE_PCR_KEY)"

cp --sparse=always "$raw" "$dir/disk.raw"
esp="$dir/disk.raw@@$(esp_offset "$dir/disk.raw")"
# The changed UKI: one more word on the command line, so PCR 11 differs.
printf '%s ve.test=policy' "$(cat "$VE_IMAGE_OUT/cmdline")" > "$dir/cmdline.changed"
want_orig=$(manifest_get 'm["measurements"]["pcr11_data_unlock"]')
want_changed=$(pcr11_predict "$VE_IMAGE_OUT" "$dir/cmdline.changed" enter-initrd:leave-initrd)
[ "$want_orig" != "$want_changed" ] || fail "the changed command line did not change PCR 11"
t_log "PCR 11 at unlock: built UKI $want_orig, changed UKI $want_changed"
make_uki "$VE_IMAGE_OUT" "$dir/cmdline.changed" "$VE_IMAGE_OUT/pcrsig.json" "$dir/uki.stale-sig.efi"
pcr_sign "$VE_IMAGE_OUT" "$dir/cmdline.changed" "$dir/pcrsig.changed.json" || fail "systemd-measure sign failed"
make_uki "$VE_IMAGE_OUT" "$dir/cmdline.changed" "$dir/pcrsig.changed.json" "$dir/uki.resigned.efi"

results=()
# ---- boot 1: the built image (first boot, enrollment) -----------------------------
d1="$dir/boot1"; mkdir -p "$d1"
t_log "boot 1: the built image (first boot: LUKS2 + TPM enrollment)"
vm_start "$dir" "$dir/disk.raw"
mv_serial() { cp "$VM_SERIAL" "$1/serial.log"; }
wait_status "$timeout_s" || { mv_serial "$d1"; fail "boot 1: the node did not answer within ${timeout_s}s"; }
key1=$(status_key)
grep -qa 'TPM2 slot: PCR 7 + signed PCR 11 policy' "$VM_SERIAL" || fail "boot 1: ve-data-setup did not enroll the signed policy"
t_log "boot 1: node up after ${VM_UP_S}s, node key $key1"
results+=("policy_boot1_up_s=$VM_UP_S")
mv_serial "$d1"
vm_stop

# ---- boot 2: changed UKI, stale signature -> no unlock ----------------------------
# boot_uki N UKI MESSAGE: boot N with UKI in place of the built one.
boot_uki() {
	mkdir -p "$dir/boot$1"
	mcopy -o -i "$esp" "$2" "::/EFI/Linux/$uki"
	t_log "boot $1: $3"
	vm_start "$dir" "$dir/disk.raw"
}
d2="$dir/boot2"
boot_uki 2 "$dir/uki.stale-sig.efi" "PCR 11 differs, .pcrsig does not match it (deadline ${refuse_s}s)"
wait_serial 'Failed to start.*(cryptse|Cryptography Setup)|Dependency failed for.*(ve-data|/var|Local File)' "$refuse_s" \
	|| { mv_serial "$d2"; fail "boot 2: no unlock failure reported within ${refuse_s}s"; }
secs=$(( $(date +%s) - VM_T0 ))
sleep 20
"$VECTL" status --node "127.0.0.1:$VM_PORT" --timeout 3s >/dev/null 2>&1 && fail "boot 2: the node answered without its data partition"
grep -qa 'EXT4-fs (dm-' "$VM_SERIAL" && fail "boot 2: a file system was mounted from the data partition"
t_log "boot 2: refused after ${secs}s: $(tr -d '\r' < "$VM_SERIAL" | grep -aE 'Failed to start.*(cryptse|Cryptography Setup)|Dependency failed' | head -n1 | sed 's/\x1b\[[0-9;]*m//g')"
results+=("policy_stale_refused_s=$secs")
mv_serial "$d2"
vm_stop

# ---- boot 3: changed UKI, signature by the PCR key -> unlock ----------------------
d3="$dir/boot3"
boot_uki 3 "$dir/uki.resigned.efi" "same PCR 11 change, .pcrsig signed by the PCR key"
wait_status "$timeout_s" || { mv_serial "$d3"; fail "boot 3: the node did not answer within ${timeout_s}s"; }
key3=$(status_key)
[ "$key3" = "$key1" ] || fail "boot 3: node key $key3 differs from boot 1's $key1 (not the same data)"
wait_serial 've-measurement: pcr11=sha256:[0-9a-f]{64}' 300 || fail "boot 3: no PCR 11 report"
got=$(tr -d '\r' < "$VM_SERIAL" | grep -aoE 've-measurement: pcr11=sha256:[0-9a-f]{64}' | head -n1 | sed 's/.*sha256://')
want=$(pcr11_predict "$VE_IMAGE_OUT" "$dir/cmdline.changed" enter-initrd:leave-initrd:sysinit:ready)
[ "$got" = "$want" ] || fail "boot 3: PCR 11 $got is not the changed UKI's $want"
t_log "boot 3: unlocked, node up after ${VM_UP_S}s with the same key; PCR 11 $got (changed UKI)"
results+=("policy_resigned_up_s=$VM_UP_S")
mv_serial "$d3"
vm_stop
printf '%s\n' "${results[@]}" > "${VE_IMAGE_RESULTS:-/dev/null}"
t_log "PASS (stale PCR signature refused, a PCR-key-signed UKI unlocks the same data)"
