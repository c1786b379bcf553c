#!/usr/bin/env bash
# Takes a fresh Debian 12 machine (as root, or a user with sudo) to ready for
# building and testing VirtEngine. Idempotent: when everything in
# tools/packages.txt is installed it only checks, in about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if ! grep -q '^VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null; then
  echo "install: warning: VirtEngine is built and tested on Debian 12 (bookworm)" >&2
fi

# name -> recorded version ("" when only the name is pinned)
declare -A want=()
while read -r line; do
  line="${line%%#*}"
  [ -n "${line// }" ] || continue
  name="${line%%=*}"
  ver=""
  [[ "$line" == *=* ]] && ver="${line#*=}"
  want["$name"]="$ver"
done < tools/packages.txt

missing=()
for name in "${!want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$name" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$name")
done
# Node.js runs the envelope interoperability test (tests/interop). Any
# Node.js >= 18 will do; Debian's is installed only when none is present.
if ! command -v node >/dev/null 2>&1; then
  missing+=(nodejs npm)
elif ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install: installing ${#missing[@]} Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Versions built against: a different one still works in most cases, but say so.
for name in "${!want[@]}"; do
  ver="${want[$name]}"
  [ -n "$ver" ] || continue
  have=$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null || true)
  if [ "$have" != "$ver" ]; then
    echo "install: note: $name is $have here; VirtEngine was built against $ver" >&2
  fi
done

# JavaScript test dependencies, from the npm registry, pinned by lock file.
# Re-run when the lock file changed since the last install.
for dir in tests/interop tests/compliance; do
  [ -f "$dir/package-lock.json" ] || continue
  want=$(sha256sum "$dir/package-lock.json" | cut -c1-64)
  have=$(cat "$dir/node_modules/.ve-lock-sha256" 2>/dev/null || true)
  if [ "$want" != "$have" ]; then
    (cd "$dir" && npm ci --silent --no-audit --no-fund)
    echo "$want" > "$dir/node_modules/.ve-lock-sha256"
  fi
done
echo "install: ready"
