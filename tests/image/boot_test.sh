#!/usr/bin/env bash
# Image test 1: the signed image boots with Secure Boot enforced (OVMF,
# Debian's snakeoil keys enrolled) and a swtpm TPM; the node comes up and
# answers `vectl status` through a forwarded port, running with its TPM; the
# guest's PCR 11 equals the value image/build predicted with systemd-measure
# (manifest.json), and the node's TPM quote verifies against it.
set -euo pipefail
export T_NAME=boot-test
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
timeout_s="${VE_BOOT_TIMEOUT_S:-900}"
t_setup boot

overlay "$raw" "$dir/disk.qcow2"
t_log "booting $raw (Secure Boot, swtpm, TCG), deadline ${timeout_s}s"
vm_start "$dir" "$dir/disk.qcow2"
wait_status "$timeout_s" || fail "the node did not answer vectl status within ${timeout_s}s"
t_log "node answered after ${VM_UP_S}s: $STATUS_JSON"
chain=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["chain_id"])' "$STATUS_JSON")
[ "$chain" = "virtengine-appliance" ] || fail "unexpected chain id $chain"
# The appliance node runs with its TPM (not --insecure-no-tpm).
attested=$(python3 -c 'import json,sys; s=json.loads(sys.argv[1]); print(s["attested"], s["insecure_no_tpm"])' "$STATUS_JSON")
[ "$attested" = "True False" ] || fail "the node does not run attested (attested, insecure_no_tpm = $attested)"

wait_serial 've-measurement: pcr11=sha256:[0-9a-f]{64}' 300 || fail "no PCR 11 report from the guest"
got=$(tr -d '\r' < "$VM_SERIAL" | grep -aoE 've-measurement: pcr11=sha256:[0-9a-f]{64}' | head -n1 | sed 's/.*sha256://')
want=$(manifest_get 'm["measurements"]["pcr11_running"]')
t_log "PCR 11 guest     $got"
t_log "PCR 11 predicted $want"
[ "$got" = "$want" ] || fail "PCR 11 differs from the prediction"
# The running node's TPM quote (fresh nonce, bound to its node key) checked
# by vectl's verifier against the measurement the manifest predicts.
nonce=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
"$VECTL" attest quote --node "127.0.0.1:$VM_PORT" --nonce "$nonce" --timeout 30s --output json > "$dir/quote.json" ||
	fail "the node gave no TPM quote"
verdict=$("$VECTL" attest verify "$dir/quote.json" --nonce "$nonce" --manifest "$VE_IMAGE_OUT/manifest.json" 2>&1) ||
	fail "the node's quote does not verify against the manifest: $verdict"
t_log "quote verified: $(printf '%s' "$verdict" | head -n1)"
grep -qa 've-measurement: secureboot=1' "$VM_SERIAL" || fail "guest does not report Secure Boot enabled"
grep -qa 'Kernel is locked down from EFI Secure Boot' "$VM_SERIAL" || fail "kernel not locked down"
grep -qaE 'login:|Press Enter to continue' "$VM_SERIAL" && fail "a login prompt or emergency shell appeared"
pcr7=$(tr -d '\r' < "$VM_SERIAL" | grep -aoE 've-measurement: pcr7=sha256:[0-9a-f]{64}' | head -n1 | sed 's/.*sha256://')
{
	echo "boot_to_status_s=$VM_UP_S"
	echo "pcr11=$got"
	echo "pcr7=$pcr7"
	echo "root_hash=$(manifest_get 'm["root"]["verity"]["root_hash"]')"
} > "${VE_IMAGE_RESULTS:-/dev/null}"
t_log "PASS (node up in ${VM_UP_S}s, PCR 11 matches)"
