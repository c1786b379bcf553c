#!/usr/bin/env bash
# Image test 4: A/B update and automatic fallback, every boot a cold boot
# (qemu ends on each guest reboot, -no-reboot, and is started again with the
# same disk, EFI variables and TPM), Secure Boot enforced.
#
# Three test builds (image/build --test-admin-port, so that the host reaches
# the node's admin socket): A = image/VERSION's version, BAD = A+1 whose
# ve-node never starts (--test-broken-node), GOOD = A+2.
#   1. boot A (first boot), note the node key (it lives on the data
#      partition);
#   2. `vectl image install BAD`: the node stages it, ve-image-install writes
#      slot B and reboots; BAD boots 3 times (systemd-boot counts tries,
#      ve-node-failed reboots each), then A boots again by itself;
#   3. `vectl image install GOOD`: boots GOOD, the health gate passes,
#      systemd-bless-boot marks the entry good; a further cold boot stays on
#      GOOD;
#   4. `vectl image install A` is refused (below the minimum version);
#  and the node key is the same in every healthy boot (data intact).
# Builds are reused from $VE_IMAGE_WORK/ab when VE_AB_REUSE_BUILDS=1.
set -euo pipefail
export T_NAME=ab-test
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
work="$VE_IMAGE_WORK_DIR"
ab="$work/ab"
boot_s="${VE_BOOT_TIMEOUT_S:-900}"
admin_guest_port=9091
base_version=$(sed -n 's/^VERSION=//p' "$repo/image/VERSION")
IFS=. read -r maj min pat <<< "$base_version"
bad_version="$maj.$min.$((pat + 1))"
good_version="$maj.$min.$((pat + 2))"
dir=$(mktemp -d "${TMPDIR:-/tmp}/ve-image-ab.XXXXXX")
trap 'admin_bridge_stop; vm_stop; [ -n "${VE_KEEP_TEST_DIR:-}" ] || rm -rf "$dir"' EXIT
trap 'exit 143' TERM INT
t0=$(date +%s)
results=()

# ---- builds ------------------------------------------------------------------------
build() { # name version [flags]
	local name=$1 version=$2
	shift 2
	if [ "${VE_AB_REUSE_BUILDS:-0}" = 1 ] && [ -f "$ab/$name/virtengine-$version.update.tar" ]; then
		return 0
	fi
	local reuse=0
	[ -f "$work/rootfs.meta/kver" ] && reuse=1
	t_log "building $name ($version $*)"
	VE_IMAGE_REUSE_ROOTFS=$reuse "$repo/image/build" --bin-dir "$VE_IMAGE_OUT/bin" --keep-rootfs \
		--out "$ab/$name" --version "$version" --test-admin-port "$admin_guest_port" "$@" \
		> "$dir/build-$name.log" 2>&1 || { tail -n 20 "$dir/build-$name.log" >&2; fail "build $name failed"; }
}
tb=$(date +%s)
build a "$base_version"
build bad "$bad_version" --test-broken-node
build good "$good_version"
results+=("ab_builds_s=$(( $(date +%s) - tb ))")

VECTL="$ab/a/bin/vectl"
export VM_ADMIN_GUEST_PORT=$admin_guest_port # read by vm_start (lib.sh)
sock="$dir/admin.sock"
cp --sparse=always "$ab/a/virtengine-$base_version.raw" "$dir/disk.raw"
disk="$dir/disk.raw"
nboot=0

# boot: one cold boot; sets BOOTED (the version systemd printed) and keeps
# the serial log as boot-N.log.
boot() {
	nboot=$((nboot + 1))
	vm_start "$dir" "$disk"
	wait_serial 'Welcome to .*VirtEngine Appliance [0-9.]+' 600 || fail "boot $nboot: systemd never started"
	BOOTED=$(tr -d '\r' < "$VM_SERIAL" | grep -aoE 'VirtEngine Appliance [0-9]+\.[0-9]+\.[0-9]+' | head -n1 | awk '{print $3}')
	t_log "boot $nboot: $BOOTED"
}
end_boot() { cp "$VM_SERIAL" "$dir/boot-$nboot.log" 2>/dev/null || true; admin_bridge_stop; vm_stop; }
# healthy: the node answers; sets KEY
healthy() {
	wait_status "$boot_s" || fail "boot $nboot ($BOOTED): the node did not answer within ${boot_s}s"
	KEY=$(status_key)
	admin_bridge_start "$sock" "$VM_ADMIN_PORT"
}
# wait_exit S: the guest reboots (qemu ends) within S seconds
wait_exit() {
	local deadline=$(( $(date +%s) + $1 ))
	while vm_alive && [ "$(date +%s)" -lt "$deadline" ]; do sleep 3; done
	! vm_alive
}
install() { # bundle -> prints vectl's output; status in INSTALL_RC
	INSTALL_RC=0
	INSTALL_OUT=$("$VECTL" image install "$1" --admin-socket "$sock" 2>&1) || INSTALL_RC=$?
	t_log "vectl image install $(basename "$1"): rc=$INSTALL_RC: $INSTALL_OUT"
}
# update NAME VERSION: installs the NAME build, which ve-image-install writes
# into slot B before the guest reboots; records ab_install_NAME_s.
update() {
	local ti
	ti=$(date +%s)
	install "$ab/$1/virtengine-$2.update.tar"
	[ "$INSTALL_RC" -eq 0 ] || fail "installing $2 was refused"
	wait_exit 900 || fail "the node did not reboot after staging $2"
	grep -qa "ve-image-install: installed $2 into slot b" "$VM_SERIAL" || fail "no install report for $2"
	results+=("ab_install_$1_s=$(( $(date +%s) - ti ))")
	end_boot
}

# ---- 1. A, first boot -------------------------------------------------------------------
boot
[ "$BOOTED" = "$base_version" ] || fail "boot 1 booted $BOOTED, want $base_version"
healthy
key_a=$KEY
results+=("ab_first_boot_up_s=$VM_UP_S")
st=$("$VECTL" image status --admin-socket "$sock" --output json) || fail "vectl image status failed"
t_log "image status: $st"

# ---- 2. BAD update: three failed tries, then A by itself --------------------------------
update bad "$bad_version"
tf=$(date +%s)
bad_boots=0
while true; do
	boot
	if [ "$BOOTED" = "$bad_version" ]; then
		bad_boots=$((bad_boots + 1))
		[ "$bad_boots" -le 3 ] || fail "$bad_version booted a 4th time (boot counting did not fall back)"
		wait_exit "$boot_s" || fail "boot $nboot: $bad_version did not reboot by itself within ${boot_s}s"
		# The expected reason is the node (ve-node-failed); a boot that failed
		# earlier (ve-emergency on a counted boot) also counts a try: say so.
		if ! grep -qa 'failing this boot' "$VM_SERIAL"; then
			grep -qa 've-emergency: counted boot' "$VM_SERIAL" || fail "boot $nboot: no failure reported"
			t_log "boot $nboot: failed before the node (ve-emergency), e.g. /var did not unlock"
			results+=("ab_bad_boot_${nboot}_emergency=1")
		fi
		end_boot
		continue
	fi
	[ "$BOOTED" = "$base_version" ] || fail "boot $nboot booted $BOOTED"
	break
done
[ "$bad_boots" -eq 3 ] || fail "$bad_version booted $bad_boots times, want 3"
healthy
[ "$KEY" = "$key_a" ] || fail "after the fallback the node key is $KEY, not $key_a (data lost)"
t_log "fell back to $base_version after $bad_boots tries of $bad_version, same node key"
results+=("ab_fallback_s=$(( $(date +%s) - tf ))")
end_boot
entries=$(esp_ls "$disk" | tr '\n' ' ')
t_log "ESP entries: $entries"
case " $entries " in *" virtengine-$bad_version+0-3.efi "*) ;; *) fail "no exhausted entry virtengine-$bad_version+0-3.efi" ;; esac

# ---- 3. GOOD update: boots B, blessed, stays ----------------------------------------------
boot
[ "$BOOTED" = "$base_version" ] || fail "boot $nboot booted $BOOTED, want $base_version"
healthy
update good "$good_version"
tg=$(date +%s)
boot
[ "$BOOTED" = "$good_version" ] || fail "boot $nboot booted $BOOTED, want $good_version"
healthy
[ "$KEY" = "$key_a" ] || fail "on $good_version the node key is $KEY, not $key_a (data lost)"
wait_serial 'Finished.*(bless-boot|Boot Loader Entry as Good)' 600 || fail "systemd-bless-boot did not run"
results+=("ab_good_blessed_s=$(( $(date +%s) - tg ))")
end_boot
entries=$(esp_ls "$disk" | tr '\n' ' ')
t_log "ESP entries: $entries"
case " $entries " in *" virtengine-$good_version.efi "*) ;; *) fail "virtengine-$good_version.efi not blessed" ;; esac
case " $entries " in *"virtengine-$bad_version"*) fail "the replaced $bad_version entry is still there" ;; esac
boot
[ "$BOOTED" = "$good_version" ] || fail "cold boot after blessing booted $BOOTED, want $good_version"
healthy
[ "$KEY" = "$key_a" ] || fail "node key changed on the second $good_version boot"

# ---- 4. downgrade refused ---------------------------------------------------------------------
install "$ab/a/virtengine-$base_version.update.tar"
[ "$INSTALL_RC" -ne 0 ] || fail "installing $base_version over $good_version was accepted"
case "$INSTALL_OUT" in
*"version $base_version is below the minimum version $good_version recorded on this node (downgrade refused)"*) ;;
*) fail "unexpected refusal: $INSTALL_OUT" ;;
esac
st=$("$VECTL" image status --admin-socket "$sock" --output json) || fail "vectl image status failed"
t_log "image status: $st"
end_boot
results+=("ab_boots=$nboot" "ab_total_s=$(( $(date +%s) - t0 ))")
printf '%s\n' "${results[@]}" > "${VE_IMAGE_RESULTS:-/dev/null}"
t_log "PASS ($bad_version fell back after 3 tries; $good_version blessed and stays; downgrade refused; data intact; $nboot boots, $(( $(date +%s) - t0 ))s)"
