#!/usr/bin/env bash
# Envelope interoperability: the C++ implementation (security/envelope, driven
# through envelope_tool) against an independent Node.js implementation written
# from docs/security/envelope.md (envelope.js, TweetNaCl + Node's crypto).
#   (a) C++ seals -> JS opens      (b) JS seals -> C++ opens
#   (c) several recipients (keys made by both), each opens with both
#   (d) every header byte flipped (and payload, truncation, trailing bytes):
#       both implementations refuse
# Node.js and tests/interop/node_modules (tools/install.sh runs `npm ci`
# there) are required: without them this test FAILS, it never skips.
set -euo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

runfiles="${TEST_SRCDIR:?TEST_SRCDIR not set (run through bazel test)}/${TEST_WORKSPACE:-virtengine}/tests/interop"
TOOL="$runfiles/envelope_tool"
[ -x "$TOOL" ] || fail "envelope_tool not found at $TOOL"
runfiles="$(cd "$runfiles" && pwd)"
TOOL="$runfiles/envelope_tool"

command -v node >/dev/null 2>&1 ||
  fail "node not found on PATH ($PATH): install Node.js >= 18 (tools/install.sh)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 18 ] || fail "Node.js $(node --version) is too old, need >= 18"

# Bazel links the .js files into the runfiles tree but not node_modules: the
# real (symlink-resolved) location of the script is the source directory.
CLI="$(readlink -f "$runfiles/envelope_cli.js")"
SRC_DIR="$(dirname "$CLI")"
[ -f "$SRC_DIR/node_modules/tweetnacl/package.json" ] ||
  fail "tweetnacl is not installed in $SRC_DIR/node_modules: run tools/install.sh (or: cd tests/interop && npm ci)"
export NODE_PATH="$SRC_DIR/node_modules"
nacl_version=$(node -p 'require("tweetnacl/package.json").version')
locked_version=$(node -p "require('$SRC_DIR/package-lock.json').packages['node_modules/tweetnacl'].version")
[ "$nacl_version" = "$locked_version" ] ||
  fail "node_modules has tweetnacl $nacl_version, package-lock.json pins $locked_version: run npm ci in tests/interop"
echo "node $(node --version), tweetnacl $nacl_version"

W="${TEST_TMPDIR:?}/interop"
rm -rf "$W"
mkdir -p "$W"
W="$(cd "$W" && pwd -P)"
cd "$W"

cxx() { "$TOOL" --dir "$W" "$@"; }
js() { node "$CLI" "$@"; }

# ---- keys: three made by C++, two by JS; fingerprints must agree ---------------
for k in a b c f; do cxx keygen "$k.sk" "$k.pk"; done
for k in d e; do js keygen "$k.sk" "$k.pk"; done
for k in a b c d e f; do
  if [ "$(stat -c %s "$k.sk")" -ne 32 ] || [ "$(stat -c %s "$k.pk")" -ne 32 ]; then
    fail "key files of $k are not 32 bytes"
  fi
  fc=$(cxx fingerprint "$k.pk")
  fj=$(js fingerprint "$k.pk")
  [ "$fc" = "$fj" ] || fail "fingerprint of $k: C++ $fc, JS $fj"
done

: >p0.bin
head -c 1000 /dev/urandom >p1.bin
head -c 300000 /dev/urandom >p2.bin
printf 'identity scope: document+selfie' >p3.bin

expect_same() {
  cmp -s "$1" "$2" || fail "$3: plaintext differs ($1 vs $2)"
}

# ---- (a) C++ seals, JS opens ----------------------------------------------------
for p in p0 p1 p2 p3; do
  cxx seal "$p.bin" "a_$p.env" a.pk
  js open "a_$p.env" a.sk "a_$p.js.out"
  expect_same "$p.bin" "a_$p.js.out" "(a) C++ seal -> JS open of $p"
  [ "$(cxx header "a_$p.env")" = "$(js header "a_$p.env")" ] ||
    fail "(a) header listings differ for a_$p.env"
done
echo "ok (a) C++ seals, JS opens (0, 1000, 300000, 31 bytes)"

# ---- (b) JS seals, C++ opens ----------------------------------------------------
for p in p0 p1 p2 p3; do
  js seal "$p.bin" "b_$p.env" d.pk
  cxx open "b_$p.env" d.sk "b_$p.cxx.out"
  expect_same "$p.bin" "b_$p.cxx.out" "(b) JS seal -> C++ open of $p"
  [ "$(cxx header "b_$p.env")" = "$(js header "b_$p.env")" ] ||
    fail "(b) header listings differ for b_$p.env"
done
echo "ok (b) JS seals, C++ opens"

# ---- (c) several recipients, each opens with both implementations ----------------
cxx seal p2.bin c_cxx.env a.pk d.pk b.pk e.pk c.pk
js seal p2.bin c_js.env d.pk a.pk e.pk c.pk b.pk
for env in c_cxx c_js; do
  [ "$(cxx header "$env.env" | grep -c '^recipient ')" -eq 5 ] ||
    fail "(c) $env.env does not list 5 recipients"
  for k in a b c d e; do
    cxx open "$env.env" "$k.sk" "$env.$k.cxx.out"
    expect_same p2.bin "$env.$k.cxx.out" "(c) C++ open of $env by $k"
    js open "$env.env" "$k.sk" "$env.$k.js.out"
    expect_same p2.bin "$env.$k.js.out" "(c) JS open of $env by $k"
  done
  # A key that is not a recipient is told so by both.
  if cxx open "$env.env" f.sk "$env.f.out" 2>err.txt; then fail "(c) C++ opened $env with a stranger's key"; fi
  grep -q 'NOT_FOUND: envelope: no recipient entry for this key' err.txt ||
    fail "(c) C++ stranger error: $(cat err.txt)"
  if js open "$env.env" f.sk "$env.f.out" 2>err.txt; then fail "(c) JS opened $env with a stranger's key"; fi
  grep -q 'not_found' err.txt || fail "(c) JS stranger error: $(cat err.txt)"
  [ ! -e "$env.f.out" ] || fail "(c) a plaintext was written for a stranger"
done
echo "ok (c) 5 recipients (keys from both), sealed by each, opened by each with both"

# ---- (d) tampering ----------------------------------------------------------------
# Every header byte with two different bit flips (0x01, 0x80: bit 255 of an
# X25519 key is ignored by X25519, so only the header binding catches it), a
# payload byte, the payload tag, one byte short, one byte long. The variants
# are written by a few lines of test-only JavaScript (one process); each
# implementation then tries all of them with both recipient keys.
make_variants() { # ENVELOPE HEADER_SIZE -> names on stdout
  # shellcheck disable=SC2016  # JavaScript template literals, not shell
  node -e '
    const fs = require("fs");
    const [src, headerSize] = [process.argv[1], Number(process.argv[2])];
    const orig = fs.readFileSync(src);
    const out = [];
    const put = (name, buf) => { fs.writeFileSync(name, buf); out.push(name); };
    for (let i = 0; i < headerSize; i++) {
      for (const mask of [0x01, 0x80]) {
        const b = Buffer.from(orig); b[i] ^= mask; put(`${src}.${i}.${mask}.bad`, b);
      }
    }
    let b = Buffer.from(orig); b[headerSize + 20] ^= 1; put(`${src}.payload.bad`, b);
    b = Buffer.from(orig); b[headerSize] ^= 1; put(`${src}.tag.bad`, b);
    put(`${src}.short.bad`, orig.subarray(0, orig.length - 1));
    put(`${src}.long.bad`, Buffer.concat([orig, Buffer.from("x")]));
    process.stdout.write(out.join("\n") + "\n");
  ' "$1" "$2"
}

# flip SRC DST OFFSET MASK: copy SRC to DST with byte OFFSET xor MASK.
flip() {
  node -e '
    const fs = require("fs");
    const b = fs.readFileSync(process.argv[1]);
    b[Number(process.argv[3])] ^= Number(process.argv[4]);
    fs.writeFileSync(process.argv[2], b);
  ' "$@"
}

tampered=0
for env in t_cxx t_js; do
  if [ "$env" = t_cxx ]; then cxx seal p3.bin "$env.env" a.pk d.pk; else js seal p3.bin "$env.env" a.pk d.pk; fi
  size=$(stat -c %s "$env.env")
  header=$((44 + 2 * 120))
  [ "$size" -eq $((header + 16 + 31)) ] || fail "(d) $env.env is $size bytes"
  mapfile -t files < <(make_variants "$env.env" "$header")
  [ "${#files[@]}" -eq $((2 * header + 4)) ] || fail "(d) made ${#files[@]} variants"
  for k in a d; do
    cxx open-each "$k.sk" "${files[@]}" >cxx_each.txt
    js open-each "$k.sk" "${files[@]}" >js_each.txt
    for impl in cxx js; do
      [ "$(wc -l <"${impl}_each.txt")" -eq "${#files[@]}" ] ||
        fail "(d) $impl open-each printed $(wc -l <"${impl}_each.txt") lines for ${#files[@]} files"
      if grep -E ' ok$' "${impl}_each.txt"; then fail "(d) $impl opened the tampered envelopes above with key $k"; fi
    done
  done
  # The untouched envelope still opens with both (the flips were the cause).
  [ "$(cxx open-each a.sk "$env.env")" = "$env.env ok" ] || fail "(d) C++ control"
  [ "$(js open-each d.sk "$env.env")" = "$env.env ok" ] || fail "(d) JS control"
  tampered=$((tampered + ${#files[@]}))
done

# Precise refusals for a few header fields, by both.
flip t_cxx.env v.bad 4 3
cxx open v.bad a.sk v.out 2>err.txt && fail "(d) version 2 accepted"
grep -q 'unsupported version 2' err.txt || fail "(d) C++ version error: $(cat err.txt)"
js open v.bad a.sk v.out 2>err.txt && fail "(d) JS accepted version 2"
grep -q 'unsupported version 2' err.txt || fail "(d) JS version error: $(cat err.txt)"
flip t_cxx.env n.bad 92 1 # entry 0's key_nonce: an authenticated field
cxx open n.bad a.sk n.out 2>err.txt && fail "(d) altered key nonce accepted"
grep -q 'UNAUTHENTICATED' err.txt || fail "(d) C++ nonce error: $(cat err.txt)"
cxx open n.bad d.sk n.out 2>err.txt && fail "(d) altered header accepted by the other recipient"
grep -q 'UNAUTHENTICATED: envelope: payload failed authentication' err.txt ||
  fail "(d) C++ other-recipient error: $(cat err.txt)"
js open n.bad d.sk n.out 2>err.txt && fail "(d) JS accepted an altered header"
grep -q 'unauthenticated: payload failed authentication' err.txt || fail "(d) JS error: $(cat err.txt)"
echo "ok (d) $tampered tampered envelopes refused by both implementations, with both keys"
echo "PASS"
