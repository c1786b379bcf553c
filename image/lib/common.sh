# Shared by image/build and tests/image (sourced, bash).
# shellcheck shell=bash disable=SC2034 # constants used by the sourcing scripts

# ve_uuid NAME -> a UUID derived from the image version and NAME (stable
# across builds of the same version; distinct per version and per NAME).
ve_uuid() {
	local h
	h=$(printf 'virtengine-image:%s:%s' "$VE_IMAGE_VERSION" "$1" | sha256sum | cut -c1-32)
	# RFC 4122 variant bits, "version 8" (custom) in the version nibble.
	printf '%s-%s-8%s-%x%s-%s\n' "${h:0:8}" "${h:8:4}" "${h:13:3}" \
		$(( (0x${h:16:1} & 0x3) | 0x8 )) "${h:17:3}" "${h:20:12}"
}

# ve_hex NAME -> 64 hex digits derived from the version and NAME (salts).
ve_hex() {
	printf 'virtengine-image:%s:%s' "$VE_IMAGE_VERSION" "$1" | sha256sum | cut -c1-64
}

# uuid_from_hex HEX32 -> 8-4-4-4-12 (the systemd rule: a verity root's
# partition UUID is the first 128 bits of the root hash, its hash
# partition's the last 128 bits).
uuid_from_hex() {
	local h=$1
	printf '%s-%s-%s-%s-%s\n' "${h:0:8}" "${h:8:4}" "${h:12:4}" "${h:16:4}" "${h:20:12}"
}

# Partition layout (MiB). Fixed so that any later version fits a slot.
VE_ESP_MIB=128
VE_ROOT_MIB=768
VE_VERITY_MIB=32
# The data partition also holds a staged update (root ~ 460 MB) until it is
# written to the inactive slot: 2 GiB (grow it on real disks).
VE_DATA_MIB=2048

# GPT partition types (Discoverable Partitions Specification).
VE_TYPE_ESP=c12a7328-f81f-11d2-ba4b-00a0c93ec93b
VE_TYPE_ROOT=4f68bce3-e8cd-4db1-96e7-fbcaf984b709
VE_TYPE_VERITY=2c7357ed-ebd2-46d9-aec1-23d437ec2bf5
VE_TYPE_LINUX=0fc63daf-8483-4772-8e79-3d69d8477de4

# Debian's Secure Boot test keys (package ovmf). TEST ONLY: the private key
# is public. Referenced by path, never copied into the repository.
VE_SNAKEOIL_KEY=/usr/share/ovmf/PkKek-1-snakeoil.key
VE_SNAKEOIL_CERT=/usr/share/ovmf/PkKek-1-snakeoil.pem
VE_SNAKEOIL_PASS=snakeoil

# The PCR-signing TEST key (signed PCR 11 policy of the data partition) is
# generated once per work directory, so that every test build (versions N
# and N+1) is signed by the same key. TEST ONLY: production passes
# VE_PCR_KEY (docs/operator/image.md, "Signed PCR policy").
ve_pcr_test_key() { # work-dir -> path of the PEM private key
	local d="$1/keys"
	mkdir -p "$d"
	chmod 0700 "$d"
	if [ ! -s "$d/pcr-signing-test.key" ]; then
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$d/pcr-signing-test.key.tmp" 2>/dev/null
		mv "$d/pcr-signing-test.key.tmp" "$d/pcr-signing-test.key"
	fi
	echo "$d/pcr-signing-test.key"
}
