'use strict';
// Command-line front end of tests/interop/envelope.js, mirroring
// //tests/interop:envelope_tool. Keys are raw 32-byte files.
//
//   node envelope_cli.js keygen SK_FILE PK_FILE
//   node envelope_cli.js seal PLAINTEXT_FILE ENVELOPE_FILE PK_FILE...
//   node envelope_cli.js open ENVELOPE_FILE SK_FILE PLAINTEXT_OUT
//   node envelope_cli.js header ENVELOPE_FILE
//   node envelope_cli.js fingerprint PK_FILE
//   node envelope_cli.js open-each SK_FILE ENVELOPE_FILE...
//       (opens each file, prints "FILE ok" or "FILE <kind>: <reason>")
//   node envelope_cli.js example        (the worked example of the doc)
//
// Exit status: 0 ok, 1 refused or failed (reason on stderr), 2 usage.

const fs = require('fs');
const nacl = require('tweetnacl');
const env = require('./envelope');

function hex(b) {
  return Buffer.from(b).toString('hex');
}

function readKey(path) {
  const b = new Uint8Array(fs.readFileSync(path));
  if (b.length !== 32) throw new env.EnvelopeError('invalid', `${path}: key is ${b.length} bytes, want 32`);
  return b;
}

function printHeader(h) {
  const lines = [
    `version ${h.version}`,
    `algorithm ${h.algorithm}`,
    `payload_length ${h.payloadLength}`,
    `key_commitment ${hex(h.keyCommitment)}`,
    `recipients ${h.recipients.length}`,
  ];
  h.recipients.forEach((e, i) => lines.push(`recipient ${i} ${hex(e.fingerprint)}`));
  process.stdout.write(lines.join('\n') + '\n');
}

// The documented worked example: every "random" input is a fixed pattern.
function example() {
  const seq = (start, len) => Uint8Array.from({ length: len }, (_, i) => (start + i) & 0xff);
  const recipientSk = seq(0x01, 32);
  const recipient = nacl.box.keyPair.fromSecretKey(recipientSk);
  const K = seq(0x80, 32);
  const esk = seq(0xa0, 32);
  const nonce = seq(0xc0, 24);
  const queue = [K, esk, nonce];
  const rng = (n) => {
    const next = queue.shift();
    if (!next || next.length !== n) throw new Error('example rng misuse');
    return Uint8Array.from(next);
  };
  const plaintext = Buffer.from('hello, VirtEngine', 'ascii');
  const sealed = env.seal(plaintext, [recipient.publicKey], rng);
  const opened = env.open(sealed, recipientSk);
  if (Buffer.compare(Buffer.from(opened), plaintext) !== 0) throw new Error('example does not open');
  const h = env.parseHeader(sealed);
  const out = {
    recipient_sk: hex(recipientSk),
    recipient_pk: hex(recipient.publicKey),
    fingerprint: hex(env.fingerprint(recipient.publicKey)),
    content_key: hex(K),
    ephemeral_sk: hex(esk),
    ephemeral_pk: hex(nacl.box.keyPair.fromSecretKey(esk).publicKey),
    key_nonce: hex(nonce),
    plaintext_ascii: plaintext.toString('ascii'),
    key_commitment: hex(h.keyCommitment),
    payload_nonce: hex(require('crypto').createHash('sha256')
      .update(Buffer.from('VirtEngine-Envelope-Payload-Nonce-v1', 'ascii'))
      .update(sealed.subarray(0, h.headerSize)).digest().subarray(0, 24)),
    envelope: hex(sealed),
  };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

function main(argv) {
  const [cmd, ...args] = argv;
  const usage = () => {
    process.stderr.write('usage: envelope_cli.js keygen|seal|open|open-each|header|fingerprint|example ...\n');
    return 2;
  };
  try {
    switch (cmd) {
      case 'keygen': {
        if (args.length !== 2) return usage();
        const kp = nacl.box.keyPair();
        fs.writeFileSync(args[0], kp.secretKey, { mode: 0o600 });
        fs.writeFileSync(args[1], kp.publicKey);
        return 0;
      }
      case 'seal': {
        if (args.length < 3) return usage();
        const plaintext = fs.readFileSync(args[0]);
        const pks = args.slice(2).map(readKey);
        fs.writeFileSync(args[1], env.seal(plaintext, pks));
        return 0;
      }
      case 'open': {
        if (args.length !== 3) return usage();
        const plain = env.open(fs.readFileSync(args[0]), readKey(args[1]));
        fs.writeFileSync(args[2], plain);
        return 0;
      }
      case 'header': {
        if (args.length !== 1) return usage();
        printHeader(env.parseHeader(fs.readFileSync(args[0])));
        return 0;
      }
      case 'fingerprint': {
        if (args.length !== 1) return usage();
        process.stdout.write(hex(env.fingerprint(readKey(args[0]))) + '\n');
        return 0;
      }
      case 'open-each': {
        if (args.length < 2) return usage();
        const sk = readKey(args[0]);
        const lines = args.slice(1).map((f) => {
          try {
            env.open(fs.readFileSync(f), sk);
            return `${f} ok`;
          } catch (e) {
            if (!(e instanceof env.EnvelopeError)) throw e;
            return `${f} ${e.kind}: ${e.message}`;
          }
        });
        process.stdout.write(lines.join('\n') + '\n');
        return 0;
      }
      case 'example':
        if (args.length !== 0) return usage();
        example();
        return 0;
      default:
        return usage();
    }
  } catch (e) {
    if (e instanceof env.EnvelopeError) {
      process.stderr.write(`envelope.js: ${cmd}: ${e.kind}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = main(process.argv.slice(2));
