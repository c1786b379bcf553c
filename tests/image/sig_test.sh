#!/usr/bin/env bash
# Image test 3: the firmware (Secure Boot enforced) refuses a UKI that is
# unsigned, and one signed with a key that is not in db. Each case puts the
# bad UKI in place of the good one on the ESP of a copy of the image; the
# kernel must never start and the node must never answer.
set -euo pipefail
export T_NAME=sig-test
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
timeout_s="${VE_SIG_TIMEOUT_S:-300}"
t_setup sig

# An ephemeral key pair that is not enrolled anywhere.
openssl req -x509 -newkey rsa:2048 -nodes -subj "/CN=VirtEngine wrong key (test)" -days 1 \
	-keyout "$dir/wrong.key" -out "$dir/wrong.pem" >/dev/null 2>&1
sbsign --key "$dir/wrong.key" --cert "$dir/wrong.pem" --output "$dir/uki.wrong.efi" \
	"$VE_IMAGE_OUT/uki.unsigned.efi" >/dev/null 2>&1
esp_off=$(( $(sfdisk --json "$raw" | python3 -c 'import json,sys; p=json.load(sys.stdin)["partitiontable"]["partitions"]; print([x for x in p if x["name"]=="ve-esp"][0]["start"])') * 512 ))

results=()
for case in unsigned wrong-key; do
	case "$case" in
	unsigned) bad="$VE_IMAGE_OUT/uki.unsigned.efi" ;;
	wrong-key) bad="$dir/uki.wrong.efi" ;;
	esac
	d="$dir/$case"
	mkdir -p "$d"
	cp --sparse=always "$raw" "$d/disk.raw"
	mcopy -o -i "$d/disk.raw@@$esp_off" "$bad" "::/EFI/Linux/$uki"
	t_log "case $case: booting with the bad UKI"
	vm_start "$d" "$d/disk.raw"
	# systemd-boot reports the firmware's refusal on the console.
	if ! wait_serial 'Access Denied|Security Violation|Failed to execute|Error loading' "$timeout_s"; then
		fail "case $case: no refusal reported within ${timeout_s}s"
	fi
	sleep 5
	grep -qa 'EFI stub:' "$VM_SERIAL" && fail "case $case: the UKI's stub ran"
	grep -qa 'Linux version' "$VM_SERIAL" && fail "case $case: the kernel started"
	"$VECTL" status --node "127.0.0.1:$VM_PORT" --timeout 3s >/dev/null 2>&1 && fail "case $case: node answered"
	secs=$(( $(date +%s) - VM_T0 ))
	t_log "case $case: refused after ${secs}s: $(tr -d '\r' < "$VM_SERIAL" | grep -aoE '[^]]*(Access Denied|Security Violation)[^[]*' | head -n1)"
	results+=("sig_${case//-/_}_refused_s=$secs")
	vm_stop
done
printf '%s\n' "${results[@]}" > "${VE_IMAGE_RESULTS:-/dev/null}"
t_log "PASS (unsigned and wrongly signed UKIs refused by the firmware)"
