#!/usr/bin/env bash
# OpenSCAP through the allowlisted runner (security/exec, the shipped
# policy/commands/oscap.textproto with its two roots pointed at this test's
# directories): by default a tailored profile of five quick rules; with
# --full the default export profile (ANSSI-BP-028 minimal without the
# file-system walks, minutes). The ARF is parsed, each rule result becomes an
# observation, the bundle validates and verifies.
set -euo pipefail
# shellcheck source=tests/compliance/common.sh
source "$(dirname "$(readlink -f "$0")")/common.sh"

[ -x /usr/bin/oscap ] || fail "/usr/bin/oscap missing: install openscap-scanner (tools/install.sh)"
TRAMP="$(readlink -f "$R/security/exec/ve-exec-trampoline")"
SCAP="$(dirname "$(readlink -f "$R/compliance/data/scap/ssg-debian12-ds.xml")")"

# The shipped policy, with the oscap roots moved to this test's directories.
cp -rL "$POLICY" "$T/policy"
chmod -R u+w "$T/policy"
mkdir -p "$T/evidence"
sed -i "s|path: \"/usr/share/virtengine/compliance/scap\"|path: \"$SCAP\"|; s|path: \"/var/lib/virtengine/evidence\"|path: \"$T/evidence\"|" \
  "$T/policy/commands/oscap.textproto"
grep -q "$T/evidence" "$T/policy/commands/oscap.textproto" || fail "roots not rewritten"

args=(--scap-dir "$SCAP" --results-dir "$T/evidence" --trampoline "$TRAMP")
MODE="${1:-}"
if [ "$MODE" != "--full" ]; then
  args+=(--tailoring "$SCAP/tailoring-tiny.xml" --profile xccdf_org.virtengine_profile_tiny)
fi
"$EV" export --out "$T/b" --signing-key "$T/seed.hex" --data-dir "$DATA" \
  --policy-dir "$T/policy" --home "$T/home" "${args[@]}" \
  >"$T/export.out" 2>"$T/export.err" || { cat "$T/export.err"; fail "export failed"; }
cat "$T/export.out"
grep '^\[3/7\]' -A1 "$T/export.err"
grep -q '^openscap: ran' "$T/export.out" || { cat "$T/export.err"; fail "OpenSCAP did not run"; }
[ -s "$T/b/openscap/arf.xml" ] || fail "no ARF in the bundle"
KEY=$(sed -n 's/^signing key: //p' "$T/export.out")

node -e "
const ar = require('$T/b/assessment-results.json')['assessment-results'].results[0];
const rules = ar.observations.filter(o => o.props[0].value.startsWith('openscap.xccdf_'));
if (rules.length === 0) { console.error('no rule observations'); process.exit(1); }
for (const o of rules) {
  if (o.methods[0] !== 'TEST' || !o['relevant-evidence'] || o['relevant-evidence'][0].href !== 'openscap/arf.xml') {
    console.error('bad rule observation ' + o.props[0].value); process.exit(1);
  }
}
const scan = ar.observations.find(o => o.props[0].value === 'openscap.scan');
console.log(rules.length + ' rule observations; scan: ' + scan.remarks);
const telnet = rules.find(o => o.props[0].value.endsWith('package_telnet_removed'));
if ('$MODE' !== '--full' && !telnet) { console.error('telnet rule missing'); process.exit(1); }
"
node "$VALIDATE" "$SCHEMAS" --bundle "$T/b" || fail "schema validation"
"$EV" verify "$T/b" --key "$KEY" >"$T/verify.out" || { cat "$T/verify.out"; fail "verify"; }
grep -q '^result: VERIFIED' "$T/verify.out" || fail "not verified"
echo "PASS"
