# Boot-test helpers (sourced by tests/image/*.sh): qemu + OVMF Secure Boot
# (Debian's snakeoil vars) + swtpm, each boot bounded in time.
# shellcheck shell=bash disable=SC2034 # VM_* and STATUS_JSON are read by the tests

VE_OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.snakeoil.fd
VE_OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd
VE_IMAGE_OUT="${VE_IMAGE_OUT:-$HOME/.cache/virtengine/image/out}"
# The vectl that image/build put into the image (a copy is in out/bin).
VECTL="${VECTL:-$VE_IMAGE_OUT/bin/vectl}"

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
		-netdev user,id=net0,hostfwd=tcp:127.0.0.1:"$VM_PORT"-:9090 \
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
