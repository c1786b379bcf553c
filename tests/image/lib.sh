# Boot-test helpers (sourced by tests/image/*.sh): qemu + OVMF Secure Boot
# (Debian's snakeoil vars) + swtpm, each boot bounded in time.
# shellcheck shell=bash disable=SC2034 # VM_* and STATUS_JSON are read by the tests

VE_OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.snakeoil.fd
VE_OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd
# The work directory image/build and the tests share (VE_IMAGE_WORK).
VE_IMAGE_WORK_DIR="${VE_IMAGE_WORK:-$HOME/.cache/virtengine/image}"
VE_IMAGE_OUT="${VE_IMAGE_OUT:-$VE_IMAGE_WORK_DIR/out}"
# The vectl that image/build put into the image (a copy is in out/bin).
VECTL="${VECTL:-$VE_IMAGE_OUT/bin/vectl}"

# t_setup NAME: for a test of the built image, sets version, raw (its disk)
# and uki (the UKI's file name), a private dir (removed on exit unless
# VE_KEEP_TEST_DIR; the VM is stopped on exit).
t_setup() {
	version=$(manifest_get 'm["version"]')
	raw="$VE_IMAGE_OUT/virtengine-$version.raw"
	uki=$(manifest_get 'm["uki"]["file"]')
	dir=$(mktemp -d "${TMPDIR:-/tmp}/ve-image-$1.XXXXXX")
	trap 'vm_stop; [ -n "${VE_KEEP_TEST_DIR:-}" ] || rm -rf "$dir"' EXIT
	trap 'exit 143' TERM INT
}
# fail MESSAGE: logs it, with the serial log's tail when there is one, and
# exits 1.
fail() {
	local serial="${VM_SERIAL:-${dir:-}/serial.log}"
	t_log "FAIL: $*"
	if [ -f "$serial" ]; then
		t_log "serial log tail:"
		tr -d '\r' < "$serial" | tail -n 40 >&2
	fi
	exit 1
}

t_log() { printf '[%s %s] %s\n' "${T_NAME:-image-test}" "$(date -u +%H:%M:%S)" "$*" >&2; }

# free_port -> an unused TCP port on 127.0.0.1
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

manifest_get() { # python expression on m (the manifest)
	python3 -c "import json,sys; m=json.load(open('$VE_IMAGE_OUT/manifest.json')); print($1)"
}

# vm_start DIR DISK [VARS]: boots DISK (qcow2 overlay or raw) with Secure
# Boot enforced and a fresh-or-persisted swtpm in DIR/tpm. Sets VM_PID,
# TPM_PID, VM_PORT (forwarded to the guest's 9090), VM_SERIAL.
vm_start() {
	local dir=$1 disk=$2 vars=${3:-$1/vars.fd} fmt
	mkdir -p "$dir/tpm"
	[ -f "$vars" ] || cp "$VE_OVMF_VARS" "$vars"
	# swtpm exits when qemu disconnects: one per boot, state persists.
	rm -f "$dir/tpm/sock"
	swtpm socket --tpm2 --tpmstate dir="$dir/tpm" \
		--ctrl type=unixio,path="$dir/tpm/sock" \
		--log file="$dir/swtpm.log",level=1 --flags startup-clear >/dev/null 2>&1 &
	TPM_PID=$!
	local i=0
	while [ ! -S "$dir/tpm/sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	VM_PORT=$(free_port)
	# VM_ADMIN_GUEST_PORT (test builds with --test-admin-port): also forward
	# a host port (VM_ADMIN_PORT) to it.
	local fwd="hostfwd=tcp:127.0.0.1:$VM_PORT-:9090"
	if [ -n "${VM_ADMIN_GUEST_PORT:-}" ]; then
		VM_ADMIN_PORT=$(free_port)
		fwd="$fwd,hostfwd=tcp:127.0.0.1:$VM_ADMIN_PORT-:$VM_ADMIN_GUEST_PORT"
	fi
	VM_SERIAL="$dir/serial.log"
	: > "$VM_SERIAL"
	fmt=raw
	case "$disk" in *.qcow2) fmt=qcow2 ;; esac
	# KVM has no SMM on these machines and the Secure Boot firmware needs
	# SMM: TCG. -no-reboot: a panic (verity, initrd failure) ends qemu.
	qemu-system-x86_64 -name ve-image-test -machine q35,smm=on,accel=tcg -cpu max \
		-smp 2 -m 1536 -nodefaults -no-reboot \
		-global driver=cfi.pflash01,property=secure,value=on \
		-global ICH9-LPC.disable_s3=1 \
		-drive if=pflash,format=raw,unit=0,file="$VE_OVMF_CODE",readonly=on \
		-drive if=pflash,format=raw,unit=1,file="$vars" \
		-chardev socket,id=chrtpm,path="$dir/tpm/sock" \
		-tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-crb,tpmdev=tpm0 \
		-drive if=none,id=disk0,format="$fmt",file="$disk",cache=unsafe \
		-device virtio-blk-pci,drive=disk0 \
		-netdev user,id=net0,"$fwd" \
		-device virtio-net-pci,netdev=net0 \
		-display none -serial file:"$VM_SERIAL" -monitor none \
		>"$dir/qemu.log" 2>&1 &
	VM_PID=$!
	VM_T0=$(date +%s)
}

vm_stop() {
	if [ -n "${VM_PID:-}" ] && kill -0 "$VM_PID" 2>/dev/null; then
		kill "$VM_PID" 2>/dev/null || true
		wait "$VM_PID" 2>/dev/null || true
	fi
	if [ -n "${TPM_PID:-}" ] && kill -0 "$TPM_PID" 2>/dev/null; then
		kill "$TPM_PID" 2>/dev/null || true
		wait "$TPM_PID" 2>/dev/null || true
	fi
	VM_PID="" TPM_PID=""
}

vm_alive() { [ -n "${VM_PID:-}" ] && kill -0 "$VM_PID" 2>/dev/null; }

# wait_status DEADLINE_S: polls `vectl status` through the forwarded port
# until it answers (0), qemu exits or the deadline passes (1). Sets
# STATUS_JSON and VM_UP_S (seconds from qemu start).
wait_status() {
	local deadline=$(( $(date +%s) + $1 ))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		if STATUS_JSON=$("$VECTL" status --node "127.0.0.1:$VM_PORT" --timeout 3s --output json 2>/dev/null); then
			VM_UP_S=$(( $(date +%s) - VM_T0 ))
			return 0
		fi
		vm_alive || return 1
		sleep 3
	done
	return 1
}

# status_key: the node_public_key of the last wait_status answer.
status_key() {
	python3 -c 'import json,sys; print(json.loads(sys.argv[1])["node_public_key"])' "$STATUS_JSON"
}

# wait_serial PATTERN DEADLINE_S: waits for an extended regex in the serial log.
wait_serial() {
	local deadline=$(( $(date +%s) + $2 ))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		grep -qaE "$1" "$VM_SERIAL" && return 0
		vm_alive || { grep -qaE "$1" "$VM_SERIAL"; return; }
		sleep 2
	done
	return 1
}

# overlay BASE OUT: a qcow2 overlay over the built raw image (the base stays
# pristine; every test writes only to its own overlay).
overlay() {
	qemu-img create -q -f qcow2 -F raw -b "$1" "$2"
}

# ---- UKI helpers (tests 4 and 5) ------------------------------------------------
# The image's PCR-signing TEST key (image/build generates it once per work
# directory) or VE_PCR_KEY.
pcr_key() { echo "${VE_PCR_KEY:-$VE_IMAGE_WORK_DIR/keys/pcr-signing-test.key}"; }

# pcr_sign DIR CMDLINE OUT_JSON: a PCR 11 signature (phase
# enter-initrd:leave-initrd) for the UKI built from the image's parts in DIR
# with command line file CMDLINE, by the PCR key (systemd-measure needs a TPM
# for the policy arithmetic: a throwaway swtpm).
pcr_sign() {
	local dir=$1 cmdline=$2 out=$3 t port pid rc=0
	t=$(mktemp -d "${TMPDIR:-/tmp}/ve-measure.XXXXXX")
	port=$(free_port)
	swtpm socket --tpm2 --tpmstate dir="$t" --server type=tcp,port="$port",bindaddr=127.0.0.1 \
		--ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 --flags not-need-init,startup-clear >/dev/null 2>&1 &
	pid=$!
	sleep 1
	/lib/systemd/systemd-measure sign --tpm2-device="swtpm:host=127.0.0.1,port=$port" \
		--linux="$dir/vmlinuz" --osrel="$dir/osrel" --cmdline="$cmdline" --initrd="$dir/initrd.img" \
		--pcrpkey="$dir/pcrpkey.pem" --bank=sha256 --phase=enter-initrd:leave-initrd \
		--private-key="$(pcr_key)" --public-key="$dir/pcrpkey.pem" --json=short > "$out" || rc=1
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -rf "$t"
	return $rc
}

# pcr11_predict DIR CMDLINE PHASE -> hex (with the image's .pcrpkey)
pcr11_predict() {
	/lib/systemd/systemd-measure calculate --linux="$1/vmlinuz" --osrel="$1/osrel" --cmdline="$2" \
		--initrd="$1/initrd.img" --pcrpkey="$1/pcrpkey.pem" --bank=sha256 --phase="$3" \
		| sed -n 's/^11:sha256=//p' | head -n1
}

# make_uki DIR CMDLINE PCRSIG OUT: a UKI (same section layout as image/build)
# from the image's parts in DIR, signed with Debian's snakeoil db key (the
# key the test firmware trusts), so that Secure Boot stays on.
make_uki() {
	local dir=$1 cmdline=$2 pcrsig=$3 out=$4 stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
	local end=0 e vma s f size vma_hex k args=()
	while read -r size vma_hex; do
		e=$((0x$vma_hex + 0x$size))
		[ "$e" -gt "$end" ] && end=$e
	done < <(objdump -h "$stub" | awk '$1 ~ /^[0-9]+$/ {print $3, $4}')
	vma=$(( (end + 0xfff) & ~0xfff ))
	for s in osrel cmdline linux initrd pcrsig pcrpkey; do
		case "$s" in
		osrel) f="$dir/osrel" ;; cmdline) f="$cmdline" ;;
		linux) f="$dir/vmlinuz" ;; initrd) f="$dir/initrd.img" ;;
		pcrsig) f="$pcrsig" ;; pcrpkey) f="$dir/pcrpkey.pem" ;;
		esac
		args+=(--add-section ".$s=$f" --change-section-vma ".$s=$(printf '0x%x' "$vma")")
		vma=$(( (vma + $(stat -c %s "$f") + 0xfff) & ~0xfff ))
	done
	objcopy "${args[@]}" "$stub" "$out.unsigned"
	k=$(mktemp "${TMPDIR:-/tmp}/ve-snakeoil.XXXXXX")
	openssl pkey -in /usr/share/ovmf/PkKek-1-snakeoil.key -passin pass:snakeoil -out "$k"
	sbsign --key "$k" --cert /usr/share/ovmf/PkKek-1-snakeoil.pem --output "$out" "$out.unsigned" >/dev/null 2>&1
	rm -f "$k" "$out.unsigned"
}

# esp_offset DISK -> byte offset of the ESP (for mtools' IMAGE@@OFFSET)
esp_offset() {
	echo $(( $(sfdisk --json "$1" | python3 -c 'import json,sys; p=json.load(sys.stdin)["partitiontable"]["partitions"]; print([x for x in p if x["name"]=="ve-esp"][0]["start"])') * 512 ))
}
# esp_ls DISK: the boot entries in EFI/Linux, one name a line
esp_ls() {
	mdir -b -i "$1@@$(esp_offset "$1")" ::/EFI/Linux 2>/dev/null | sed 's|.*/||' | LC_ALL=C sort
}

# admin_bridge_start SOCK PORT: a Unix socket SOCK on the host whose
# connections are relayed to 127.0.0.1:PORT (the guest's forwarded admin
# socket in test builds), so that vectl --admin-socket works as on the node.
# Sets BRIDGE_PID.
admin_bridge_start() {
	rm -f "$1"
	python3 - "$1" "$2" <<'PY' &
import os, socket, sys, threading
path, port = sys.argv[1], int(sys.argv[2])
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
os.chmod(path, 0o600)
srv.listen(8)
def pump(a, b):
    try:
        while True:
            d = a.recv(1 << 16)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    finally:
        try:
            b.shutdown(socket.SHUT_WR)
        except OSError:
            pass
while True:
    c, _ = srv.accept()
    try:
        t = socket.create_connection(("127.0.0.1", port))
    except OSError:
        c.close()
        continue
    threading.Thread(target=pump, args=(c, t), daemon=True).start()
    threading.Thread(target=pump, args=(t, c), daemon=True).start()
PY
	BRIDGE_PID=$!
	local i=0
	while [ ! -S "$1" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}
admin_bridge_stop() {
	if [ -n "${BRIDGE_PID:-}" ] && kill -0 "$BRIDGE_PID" 2>/dev/null; then
		kill "$BRIDGE_PID" 2>/dev/null || true
		wait "$BRIDGE_PID" 2>/dev/null || true
	fi
	BRIDGE_PID=""
}
