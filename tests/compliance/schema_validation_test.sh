#!/usr/bin/env bash
# ve-evidence export/verify/diff end to end, and every generated document
# validated against the official OSCAL 1.2.1 / CycloneDX 1.6 / SPDX 2.3
# schemas by ajv 8 (an implementation independent of ours). Negative cases
# must fail: a removed required field in each document kind, a tampered
# file, a wrong key, a control that got worse.
set -euo pipefail
# shellcheck source=tests/compliance/common.sh
source "$(dirname "$(readlink -f "$0")")/common.sh"

"$EV" export --out "$T/b1" --signing-key "$T/seed.hex" --no-openscap \
  --data-dir "$DATA" --policy-dir "$POLICY" --home "$T/home" \
  --binary "$EV" --commit test-commit --builder "bazel test" \
  >"$T/export.out" 2>"$T/export.err" || { cat "$T/export.err"; fail "export failed"; }
cat "$T/export.out"
grep -q '^\[7/7\] done' "$T/export.err" || fail "no progress on stderr"
grep -q '^tpm quote: no TPM quote' "$T/export.out" || fail "missing quote not stated"
KEY=$(sed -n 's/^signing key: //p' "$T/export.out")
[ "${#KEY}" -eq 64 ] || fail "no signing key in output"

# 1. Every document is valid.
node "$VALIDATE" "$SCHEMAS" --bundle "$T/b1" || fail "schema validation of the bundle"

# 2. import-ap resolves inside the bundle.
ap=$(node -p "require('$T/b1/assessment-results.json')['assessment-results']['import-ap'].href")
[ -f "$T/b1/$ap" ] || fail "import-ap href '$ap' does not resolve"

# 3. A removed required field makes each document invalid.
remove() {  # KIND FILE JS-PATH
  node -e "const fs=require('fs');const d=JSON.parse(fs.readFileSync(process.argv[1]));delete d$3;fs.writeFileSync(process.argv[2],JSON.stringify(d))" \
    "$T/b1/$2" "$T/neg-$1.json"
  node "$VALIDATE" "$SCHEMAS" "$1" "$T/neg-$1.json" --expect-invalid ||
    fail "$2 without $3 was accepted"
}
remove assessment-results assessment-results.json "['assessment-results']['import-ap']"
remove assessment-plan assessment-plan.json "['assessment-plan']['reviewed-controls']"
remove catalog catalog-soc2.json "['catalog']['metadata']['title']"
remove component-definition component-definition.json "['component-definition']['uuid']"
remove cyclonedx sbom.cdx.json "['specVersion']"
remove spdx sbom.spdx.json "['creationInfo']"

# 4. Verification: ok, and it says what is missing.
"$EV" verify "$T/b1" --key "$KEY" >"$T/verify.out" || { cat "$T/verify.out"; fail "verify failed"; }
cat "$T/verify.out"
grep -q '^result: VERIFIED' "$T/verify.out" || fail "not verified"
grep -q 'INCOMPLETE: TPM quote ABSENT, ledger receipt ABSENT' "$T/verify.out" ||
  fail "absent quote/receipt not stated"
if "$EV" verify "$T/b1" --key "$KEY" --require-quote >"$T/verify-rq.out"; then
  fail "--require-quote passed without a quote"
fi

# 5. Wrong key.
if "$EV" verify "$T/b1" --key "$OTHER_KEY" >"$T/verify-wk.out"; then
  fail "verified with the wrong key"
fi
grep -q '^result: FAILED: signature: ' "$T/verify-wk.out" || fail "wrong key: $(cat "$T/verify-wk.out")"

# 6. Tampered file.
cp -r "$T/b1" "$T/b2"
sed -i 's/"CycloneDX"/"CycloneDx"/' "$T/b2/sbom.cdx.json"
if "$EV" verify "$T/b2" --key "$KEY" >"$T/verify-t.out"; then
  fail "tampered bundle verified"
fi
grep -q '^result: FAILED: hash mismatch: sbom.cdx.json' "$T/verify-t.out" ||
  fail "tampered: $(cat "$T/verify-t.out")"

# 7. Diff: unchanged is fine; a control that got worse fails the gate.
"$EV" diff "$T/b1" "$T/b1" >"$T/diff0.out" || fail "diff of identical bundles"
grep -q 'none got worse' "$T/diff0.out" || fail "diff0: $(cat "$T/diff0.out")"
cp -r "$T/b1" "$T/b3"
node -e "const fs=require('fs');const p=process.argv[1];const d=JSON.parse(fs.readFileSync(p));
for (const f of d['assessment-results'].results[0].findings) {
  if (f.target.status.state === 'satisfied') { f.target.status.state = 'not-satisfied'; console.log(f.target['target-id']); break; }
}
fs.writeFileSync(p, JSON.stringify(d))" "$T/b3/assessment-results.json" >"$T/worse-id"
[ -s "$T/worse-id" ] || fail "no satisfied finding to degrade"
if "$EV" diff "$T/b1" "$T/b3" >"$T/diff1.out"; then
  fail "diff did not fail when a control got worse"
fi
grep -q "^WORSE  $(cat "$T/worse-id"): satisfied -> not-satisfied" "$T/diff1.out" ||
  fail "diff1: $(cat "$T/diff1.out")"
"$EV" diff "$T/b3" "$T/b1" >"$T/diff2.out" || fail "an improvement failed the gate"

# 8. The auditor's procedure of docs/compliance/README.md: openssl and
#    sha256sum only, on the untouched bundle.
(
  cd "$T/b1"
  KEY_HEX="$KEY"
  sha256sum --check --strict --quiet manifest.sha256 || fail "auditor: sha256sum -c"
  find . -type f ! -path './attestation/*' ! -path './ledger/*' | sed 's|^\./||' | sort >"$T/present"
  { awk '{print $2}' manifest.sha256
    printf '%s\n' manifest.sha256 statement.intoto.json statement.dsse.json statement.sig
  } | sort >"$T/listed"
  diff "$T/present" "$T/listed" || fail "auditor: unlisted files"
  m=$(sha256sum manifest.sha256 | cut -c1-64)
  grep -q "\"manifest_sha256\": \"$m\"" statement.intoto.json || fail "auditor: manifest digest"
  awk '{print $1}' manifest.sha256 | while read -r h; do
    grep -q "\"sha256\": \"$h\"" statement.intoto.json || fail "auditor: $h not signed"
  done
  sed -n 's/.*"payload": "\(.*\)".*/\1/p' statement.dsse.json | openssl base64 -d -A | cmp - statement.intoto.json ||
    fail "auditor: payload"
  sed -n 's/.*"sig": "\(.*\)".*/\1/p' statement.dsse.json | openssl base64 -d -A | cmp - statement.sig ||
    fail "auditor: sig"
  printf "$(printf '302a300506032b6570032100%s' "$KEY_HEX" | sed 's/../\\x&/g')" >"$T/node.pub.der"
  printf 'DSSEv1 %d %s %d ' 28 application/vnd.in-toto+json "$(stat -c %s statement.intoto.json)" >"$T/pae.bin"
  cat statement.intoto.json >>"$T/pae.bin"
  openssl pkeyutl -verify -pubin -inkey "$T/node.pub.der" -keyform DER -rawin \
    -in "$T/pae.bin" -sigfile statement.sig || fail "auditor: openssl verify"
  # And openssl refuses the tampered copy's statement with the wrong key.
  printf "$(printf '302a300506032b6570032100%s' "$OTHER_KEY" | sed 's/../\\x&/g')" >"$T/other.pub.der"
  if openssl pkeyutl -verify -pubin -inkey "$T/other.pub.der" -keyform DER -rawin \
    -in "$T/pae.bin" -sigfile statement.sig >/dev/null 2>&1; then
    fail "auditor: openssl accepted the wrong key"
  fi
)

# 9. Usage errors exit 2.
set +e
"$EV" verify "$T/b1" >/dev/null 2>&1; [ $? -eq 2 ] || fail "verify without --key is not exit 2"
"$EV" frobnicate >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown command is not exit 2"
set -e
echo "PASS"
