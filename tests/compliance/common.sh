# Shared setup of the compliance sh_tests (sourced). Resolves runfiles to
# their source locations (security/path never follows symlinks beneath a
# root, and runfiles are symlinks), checks node and ajv, and makes a
# signing key.
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

R="${TEST_SRCDIR:?TEST_SRCDIR not set (run through bazel test)}/${TEST_WORKSPACE:-virtengine}"
T="${TEST_TMPDIR:?}"
EV="$(readlink -f "$R/compliance/ve-evidence")"
[ -x "$EV" ] || fail "ve-evidence not found"
VALIDATE="$(readlink -f "$R/tests/compliance/validate.js")"
SRC_DIR="$(dirname "$VALIDATE")"
DATA="$(dirname "$(readlink -f "$R/compliance/data/catalog-soc2.json")")"
SCHEMAS="$DATA/schemas"
POLICY="$(dirname "$(dirname "$(readlink -f "$R/policy/crypto/crypto_policy.textproto")")")"

command -v node >/dev/null 2>&1 ||
  fail "node not found on PATH ($PATH): install Node.js >= 18 (tools/install.sh)"
[ -f "$SRC_DIR/node_modules/ajv/package.json" ] ||
  fail "ajv is not installed in $SRC_DIR/node_modules: run tools/install.sh (or: cd tests/compliance && npm ci)"
export NODE_PATH="$SRC_DIR/node_modules"
for pkg in ajv ajv-formats; do
  have=$(node -p "require('$pkg/package.json').version")
  want=$(node -p "require('$SRC_DIR/package-lock.json').packages['node_modules/$pkg'].version")
  [ "$have" = "$want" ] || fail "node_modules has $pkg $have, package-lock.json pins $want: run npm ci in tests/compliance"
done
echo "node $(node --version), ajv $(node -p "require('ajv/package.json').version")"

# A fixed Ed25519 seed (test key) and a second, unrelated public key.
printf '%s\n' 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f >"$T/seed.hex"
chmod 600 "$T/seed.hex"
OTHER_KEY=3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29
mkdir -p "$T/home"
