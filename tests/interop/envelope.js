'use strict';
// An independent implementation of the VirtEngine envelope format, version 1,
// written from docs/security/envelope.md alone (TweetNaCl for X25519,
// XSalsa20-Poly1305; Node's crypto for SHA-256). It exists to prove that the
// document is enough to interoperate with security/envelope (C++).

const nodeCrypto = require('crypto');
const nacl = require('tweetnacl');

const MAGIC = Buffer.from('VENV', 'ascii');
const VERSION = 1;
const ALGORITHM = 1;
const FIXED = 44;
const ENTRY = 120;
const TAG = 16;
const MAX_RECIPIENTS = 16;
const MAX_PAYLOAD = 16 * 1024 * 1024;

const TAG_FP = Buffer.from('VirtEngine-Envelope-X25519-Fingerprint-v1', 'ascii');
const TAG_KC = Buffer.from('VirtEngine-Envelope-Key-Commitment-v1', 'ascii');
const TAG_NONCE = Buffer.from('VirtEngine-Envelope-Payload-Nonce-v1', 'ascii');

class EnvelopeError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind; // 'invalid' | 'not_found' | 'unauthenticated'
  }
}

function sha256(...parts) {
  const h = nodeCrypto.createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

function fingerprint(pk) {
  return sha256(TAG_FP, pk).subarray(0, 16);
}

function hex(b) {
  return Buffer.from(b).toString('hex');
}

function allZero(b) {
  let acc = 0;
  for (const x of b) acc |= x;
  return acc === 0;
}

function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let acc = 0;
  for (let i = 0; i < a.length; i++) acc |= a[i] ^ b[i];
  return acc === 0;
}

// A point of small order gives an all-zero X25519 output.
function checkPublicKey(pk) {
  if (!(pk instanceof Uint8Array) || pk.length !== 32) {
    throw new EnvelopeError('invalid', 'X25519 public key must be 32 bytes');
  }
  const probe = new Uint8Array(32).fill(0x5a);
  if (allZero(nacl.scalarMult(probe, pk))) {
    throw new EnvelopeError('invalid', 'X25519 public key is of small order');
  }
}

function payloadNonce(headerBytes) {
  return sha256(TAG_NONCE, headerBytes).subarray(0, 24);
}

// rng(n) returns n random bytes; tests pass a deterministic one to reproduce
// the worked example. Ephemeral secret keys are drawn from it as 32 bytes and
// turned into key pairs as crypto_box_keypair does.
function seal(plaintext, recipientPks, rng = nacl.randomBytes) {
  plaintext = Uint8Array.from(plaintext);
  const n = recipientPks.length;
  if (n < 1 || n > MAX_RECIPIENTS) {
    throw new EnvelopeError('invalid', `need 1..16 recipients, got ${n}`);
  }
  if (plaintext.length > MAX_PAYLOAD) {
    throw new EnvelopeError('invalid', 'plaintext exceeds 16 MiB');
  }
  const fps = recipientPks.map((pk) => {
    checkPublicKey(pk);
    return fingerprint(pk);
  });
  const seen = new Set(fps.map(hex));
  if (seen.size !== n) throw new EnvelopeError('invalid', 'duplicate recipient');

  const K = rng(32);
  const headerSize = FIXED + ENTRY * n;
  const out = new Uint8Array(headerSize + TAG + plaintext.length);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[4] = VERSION;
  out[5] = ALGORITHM;
  dv.setUint16(6, n, false);
  dv.setUint32(8, plaintext.length, false);
  out.set(sha256(TAG_KC, K), 12);
  for (let i = 0; i < n; i++) {
    const off = FIXED + ENTRY * i;
    const eph = nacl.box.keyPair.fromSecretKey(rng(32));
    const nonce = rng(24);
    const sealedKey = nacl.box(K, nonce, recipientPks[i], eph.secretKey);
    if (sealedKey.length !== 48) throw new Error('unexpected box size');
    out.set(fps[i], off);
    out.set(eph.publicKey, off + 16);
    out.set(nonce, off + 48);
    out.set(sealedKey, off + 72);
    eph.secretKey.fill(0);
  }
  const np = payloadNonce(out.subarray(0, headerSize));
  out.set(nacl.secretbox(plaintext, np, K), headerSize);
  K.fill(0);
  return out;
}

function parseHeader(env) {
  env = Uint8Array.from(env);
  if (env.length < FIXED) {
    throw new EnvelopeError('invalid', `${env.length} bytes, shorter than the 44-byte fixed header`);
  }
  if (!equalBytes(env.subarray(0, 4), MAGIC)) {
    throw new EnvelopeError('invalid', `bad magic 0x${hex(env.subarray(0, 4))}`);
  }
  if (env[4] !== VERSION) throw new EnvelopeError('invalid', `unsupported version ${env[4]}`);
  if (env[5] !== ALGORITHM) throw new EnvelopeError('invalid', `unsupported algorithm id ${env[5]}`);
  const dv = new DataView(env.buffer, env.byteOffset, env.byteLength);
  const n = dv.getUint16(6, false);
  if (n < 1 || n > MAX_RECIPIENTS) {
    throw new EnvelopeError('invalid', `recipient count ${n} outside 1..16`);
  }
  const L = dv.getUint32(8, false);
  if (L > MAX_PAYLOAD) throw new EnvelopeError('invalid', `payload length ${L} exceeds 16777216`);
  const headerSize = FIXED + ENTRY * n;
  const want = headerSize + TAG + L;
  if (env.length < want) throw new EnvelopeError('invalid', `truncated: ${env.length} bytes, header announces ${want}`);
  if (env.length > want) throw new EnvelopeError('invalid', `${env.length - want} trailing bytes`);
  const recipients = [];
  const seen = new Set();
  for (let i = 0; i < n; i++) {
    const off = FIXED + ENTRY * i;
    const e = {
      fingerprint: env.slice(off, off + 16),
      ephemeralPk: env.slice(off + 16, off + 48),
      keyNonce: env.slice(off + 48, off + 72),
      sealedKey: env.slice(off + 72, off + 120),
    };
    const fh = hex(e.fingerprint);
    if (seen.has(fh)) throw new EnvelopeError('invalid', `duplicate fingerprint ${fh}`);
    seen.add(fh);
    recipients.push(e);
  }
  return {
    version: env[4],
    algorithm: env[5],
    payloadLength: L,
    keyCommitment: env.slice(12, 44),
    recipients,
    headerSize,
  };
}

function open(env, secretKey) {
  env = Uint8Array.from(env);
  const h = parseHeader(env);
  const pk = nacl.box.keyPair.fromSecretKey(secretKey).publicKey;
  const fp = fingerprint(pk);
  const entry = h.recipients.find((e) => equalBytes(e.fingerprint, fp));
  if (!entry) {
    throw new EnvelopeError('not_found', `no recipient entry for fingerprint ${hex(fp)}`);
  }
  if (allZero(nacl.scalarMult(secretKey, entry.ephemeralPk))) {
    throw new EnvelopeError('unauthenticated', 'all-zero shared secret');
  }
  const K = nacl.box.open(entry.sealedKey, entry.keyNonce, entry.ephemeralPk, secretKey);
  if (!K) throw new EnvelopeError('unauthenticated', 'recipient entry failed authentication');
  if (!equalBytes(sha256(TAG_KC, K), h.keyCommitment)) {
    throw new EnvelopeError('unauthenticated', 'content key does not match the key commitment');
  }
  const np = payloadNonce(env.subarray(0, h.headerSize));
  const plain = nacl.secretbox.open(env.subarray(h.headerSize), np, K);
  K.fill(0);
  if (!plain) throw new EnvelopeError('unauthenticated', 'payload failed authentication');
  return plain;
}

module.exports = { seal, open, parseHeader, fingerprint, EnvelopeError };
