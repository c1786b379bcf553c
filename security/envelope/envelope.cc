#include "security/envelope/envelope.h"

#include <sodium.h>

#include <cstring>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "security/crypto/hash.h"
#include "security/crypto/policy.h"
#include "security/crypto/random.h"

namespace virtengine::envelope {
namespace {

namespace v1 = ::virtengine::security::crypto::v1;

static_assert(kPublicKeySize == crypto_box_PUBLICKEYBYTES);
static_assert(kSecretKeySize == crypto_box_SECRETKEYBYTES);
static_assert(kKeyNonceSize == crypto_box_NONCEBYTES);
static_assert(kSealedKeySize == crypto_box_MACBYTES + kContentKeySize);
static_assert(kContentKeySize == crypto_secretbox_KEYBYTES);
static_assert(kPayloadTagSize == crypto_secretbox_MACBYTES);
static_assert(crypto_secretbox_NONCEBYTES == 24);
static_assert(kRecipientEntrySize == kFingerprintSize + kPublicKeySize +
                                         kKeyNonceSize + kSealedKeySize);

// Domain-separation tags (ASCII, no terminator), docs/security/envelope.md.
constexpr std::string_view kFingerprintTag =
    "VirtEngine-Envelope-X25519-Fingerprint-v1";
constexpr std::string_view kCommitmentTag =
    "VirtEngine-Envelope-Key-Commitment-v1";
constexpr std::string_view kPayloadNonceTag =
    "VirtEngine-Envelope-Payload-Nonce-v1";

// Offsets in the fixed header and in a recipient entry.
constexpr size_t kOffVersion = 4;
constexpr size_t kOffAlgorithm = 5;
constexpr size_t kOffCount = 6;
constexpr size_t kOffPayloadLength = 8;
constexpr size_t kOffCommitment = 12;
constexpr size_t kEntryOffEphemeral = 16;
constexpr size_t kEntryOffNonce = 48;
constexpr size_t kEntryOffSealedKey = 72;

using Commitment = std::array<uint8_t, 32>;
using PayloadNonce = std::array<uint8_t, crypto_secretbox_NONCEBYTES>;

// libsodium must be initialised before its key generation picks its
// implementations and its CSPRNG; sodium_init is idempotent.
absl::Status EnsureSodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok)
    return absl::InternalError("envelope: libsodium failed to initialise");
  return absl::OkStatus();
}

absl::Status CheckPolicy() {
  return crypto::CheckAllowed(v1::ENVELOPE, v1::X25519_XSALSA20_POLY1305);
}

void PutU16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

void PutU32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

uint16_t GetU16(const uint8_t* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

uint32_t GetU32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) |
         (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | static_cast<uint32_t>(p[3]);
}

// SHA-256(tag || data): the scheme's internal hashes, fixed by the format
// version and covered by the ENVELOPE policy check of the caller.
Commitment TaggedSha256(std::string_view tag, ByteView data) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, reinterpret_cast<const uint8_t*>(tag.data()),
                            tag.size());
  crypto_hash_sha256_update(&st, data.data(), data.size());
  Commitment out;
  crypto_hash_sha256_final(&st, out.data());
  sodium_memzero(&st, sizeof st);
  return out;
}

Commitment KeyCommitment(const SecretBytes& content_key) {
  return TaggedSha256(kCommitmentTag, content_key.view());
}

// The first 24 bytes of SHA-256(tag || header bytes).
PayloadNonce DerivePayloadNonce(ByteView header) {
  Commitment h = TaggedSha256(kPayloadNonceTag, header);
  PayloadNonce n;
  std::memcpy(n.data(), h.data(), n.size());
  return n;
}

absl::StatusOr<Fingerprint> ComputeFingerprint(ByteView public_key) {
  Bytes input(kFingerprintTag.begin(), kFingerprintTag.end());
  input.insert(input.end(), public_key.begin(), public_key.end());
  absl::StatusOr<crypto::Digest32> d = crypto::Sha256(v1::FINGERPRINT, input);
  if (!d.ok()) return d.status();
  Fingerprint fp;
  std::memcpy(fp.data(), d->data(), fp.size());
  return fp;
}

// A point of small order gives an all-zero X25519 output for every clamped
// scalar, which libsodium's crypto_scalarmult reports as -1.
bool IsSmallOrder(const uint8_t* public_key) {
  static constexpr uint8_t kProbe[crypto_scalarmult_SCALARBYTES] = {
      0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a,
      0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a,
      0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a};
  uint8_t out[crypto_scalarmult_BYTES];
  const bool small = crypto_scalarmult(out, kProbe, public_key) != 0;
  sodium_memzero(out, sizeof out);
  return small;
}

std::string HexOf(ByteView bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 0xf]);
  }
  return s;
}

}  // namespace

std::string FingerprintHex(const Fingerprint& fp) {
  return HexOf(ByteView(fp.data(), fp.size()));
}

// ---- keys -------------------------------------------------------------------

absl::StatusOr<EnvelopeRecipientKey> EnvelopeRecipientKey::FromBytes(
    ByteView bytes) {
  if (bytes.size() != kPublicKeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("envelope: X25519 public key is ", bytes.size(),
                     " bytes, want ", kPublicKeySize));
  }
  if (absl::Status s = EnsureSodium(); !s.ok()) return s;
  if (IsSmallOrder(bytes.data())) {
    return absl::InvalidArgumentError(
        "envelope: X25519 public key is a point of small order (its shared "
        "secrets would be all zero)");
  }
  absl::StatusOr<Fingerprint> fp = ComputeFingerprint(bytes);
  if (!fp.ok()) return fp.status();
  std::array<uint8_t, kPublicKeySize> key;
  std::memcpy(key.data(), bytes.data(), key.size());
  return EnvelopeRecipientKey(key, *fp);
}

absl::StatusOr<EnvelopePrivateKey> EnvelopePrivateKey::Generate() {
  if (absl::Status s = CheckPolicy(); !s.ok()) return s;
  if (absl::Status s = EnsureSodium(); !s.ok()) return s;
  SecretBytes secret(kSecretKeySize);
  std::array<uint8_t, kPublicKeySize> pk;
  crypto_box_keypair(pk.data(), secret.mutable_data());
  absl::StatusOr<EnvelopeRecipientKey> pub =
      EnvelopeRecipientKey::FromBytes(ByteView(pk.data(), pk.size()));
  if (!pub.ok()) return pub.status();
  return EnvelopePrivateKey(std::move(secret), *pub);
}

absl::StatusOr<EnvelopePrivateKey> EnvelopePrivateKey::FromBytes(
    const SecretBytes& secret) {
  if (absl::Status s = CheckPolicy(); !s.ok()) return s;
  if (secret.size() != kSecretKeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("envelope: X25519 secret key is ", secret.size(),
                     " bytes, want ", kSecretKeySize));
  }
  if (absl::Status s = EnsureSodium(); !s.ok()) return s;
  std::array<uint8_t, kPublicKeySize> pk;
  if (crypto_scalarmult_base(pk.data(), secret.data()) != 0) {
    return absl::InvalidArgumentError(
        "envelope: X25519 secret key gives an unusable public key");
  }
  absl::StatusOr<EnvelopeRecipientKey> pub =
      EnvelopeRecipientKey::FromBytes(ByteView(pk.data(), pk.size()));
  if (!pub.ok()) return pub.status();
  return EnvelopePrivateKey(secret.Clone(), *pub);
}

// ---- header -----------------------------------------------------------------

size_t EnvelopeHeader::header_size() const {
  return kFixedHeaderSize + recipients.size() * kRecipientEntrySize;
}

size_t EnvelopeHeader::envelope_size() const {
  return header_size() + kPayloadTagSize + payload_length;
}

Bytes EnvelopeHeader::Encode() const {
  Bytes out(header_size());
  std::memcpy(out.data(), kMagic, sizeof kMagic);
  out[kOffVersion] = version;
  out[kOffAlgorithm] = algorithm;
  PutU16(out.data() + kOffCount, static_cast<uint16_t>(recipients.size()));
  PutU32(out.data() + kOffPayloadLength, payload_length);
  std::memcpy(out.data() + kOffCommitment, key_commitment.data(),
              key_commitment.size());
  uint8_t* p = out.data() + kFixedHeaderSize;
  for (const RecipientEntry& e : recipients) {
    std::memcpy(p, e.fingerprint.data(), kFingerprintSize);
    std::memcpy(p + kEntryOffEphemeral, e.ephemeral_public_key.data(),
                kPublicKeySize);
    std::memcpy(p + kEntryOffNonce, e.key_nonce.data(), kKeyNonceSize);
    std::memcpy(p + kEntryOffSealedKey, e.sealed_key.data(), kSealedKeySize);
    p += kRecipientEntrySize;
  }
  return out;
}

int EnvelopeHeader::FindRecipient(const Fingerprint& fp) const {
  for (size_t i = 0; i < recipients.size(); ++i) {
    if (recipients[i].fingerprint == fp) return static_cast<int>(i);
  }
  return -1;
}

absl::StatusOr<EnvelopeHeader> ParseHeader(ByteView env) {
  if (env.size() < kFixedHeaderSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("envelope: ", env.size(), " bytes, shorter than the ",
                     kFixedHeaderSize, "-byte fixed header"));
  }
  if (std::memcmp(env.data(), kMagic, sizeof kMagic) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "envelope: bad magic 0x", HexOf(env.subspan(0, sizeof kMagic)),
        ", want 0x56454e56 (\"VENV\")"));
  }
  EnvelopeHeader h;
  h.version = env[kOffVersion];
  if (h.version != kVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("envelope: unsupported version ", h.version,
                     " (this implementation reads version ", kVersion, ")"));
  }
  h.algorithm = env[kOffAlgorithm];
  if (h.algorithm != kAlgorithmX25519XSalsa20Poly1305) {
    return absl::InvalidArgumentError(
        absl::StrCat("envelope: unsupported algorithm id ", h.algorithm,
                     " (version 1 defines only 1 = X25519-XSalsa20-Poly1305)"));
  }
  const size_t count = GetU16(env.data() + kOffCount);
  if (count == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "envelope: recipient count is 0, must be 1..", kMaxRecipients));
  }
  if (count > kMaxRecipients) {
    return absl::InvalidArgumentError(
        absl::StrCat("envelope: recipient count ", count,
                     " exceeds the limit of ", kMaxRecipients));
  }
  h.payload_length = GetU32(env.data() + kOffPayloadLength);
  if (h.payload_length > kMaxPayloadBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("envelope: payload length ", h.payload_length,
                     " exceeds the limit of ", kMaxPayloadBytes));
  }
  const size_t header_size = kFixedHeaderSize + count * kRecipientEntrySize;
  const size_t want = header_size + kPayloadTagSize + h.payload_length;
  if (env.size() < want) {
    return absl::InvalidArgumentError(absl::StrCat(
        "envelope: truncated: ", env.size(), " bytes, the header announces ",
        want, " (", kFixedHeaderSize, " + ", count, " x ", kRecipientEntrySize,
        " header + ", kPayloadTagSize, "-byte tag + ", h.payload_length,
        " payload bytes)"));
  }
  if (env.size() > want) {
    return absl::InvalidArgumentError(
        absl::StrCat("envelope: ", env.size() - want,
                     " trailing bytes after the payload (the header announces ",
                     want, " bytes)"));
  }
  std::memcpy(h.key_commitment.data(), env.data() + kOffCommitment,
              h.key_commitment.size());
  h.recipients.resize(count);
  const uint8_t* p = env.data() + kFixedHeaderSize;
  for (size_t i = 0; i < count; ++i, p += kRecipientEntrySize) {
    RecipientEntry& e = h.recipients[i];
    std::memcpy(e.fingerprint.data(), p, kFingerprintSize);
    std::memcpy(e.ephemeral_public_key.data(), p + kEntryOffEphemeral,
                kPublicKeySize);
    std::memcpy(e.key_nonce.data(), p + kEntryOffNonce, kKeyNonceSize);
    std::memcpy(e.sealed_key.data(), p + kEntryOffSealedKey, kSealedKeySize);
    for (size_t j = 0; j < i; ++j) {
      if (h.recipients[j].fingerprint == e.fingerprint) {
        return absl::InvalidArgumentError(absl::StrCat(
            "envelope: recipient entries ", j, " and ", i,
            " have the same fingerprint ", FingerprintHex(e.fingerprint)));
      }
    }
  }
  return h;
}

// ---- seal / open
// --------------------------------------------------------------

absl::StatusOr<Bytes> Seal(ByteView plaintext,
                           absl::Span<const EnvelopeRecipientKey> recipients) {
  if (absl::Status s = CheckPolicy(); !s.ok()) return s;
  if (absl::Status s = EnsureSodium(); !s.ok()) return s;
  if (recipients.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "envelope: no recipients; 1..", kMaxRecipients, " are required"));
  }
  if (recipients.size() > kMaxRecipients) {
    return absl::InvalidArgumentError(
        absl::StrCat("envelope: ", recipients.size(),
                     " recipients exceed the limit of ", kMaxRecipients));
  }
  if (plaintext.size() > kMaxPayloadBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("envelope: plaintext of ", plaintext.size(),
                     " bytes exceeds the limit of ", kMaxPayloadBytes));
  }
  for (size_t i = 0; i < recipients.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (recipients[j].fingerprint() == recipients[i].fingerprint()) {
        return absl::InvalidArgumentError(
            absl::StrCat("envelope: recipients ", j, " and ", i,
                         " are the same key (fingerprint ",
                         FingerprintHex(recipients[i].fingerprint()), ")"));
      }
    }
  }

  const SecretBytes content_key = crypto::RandomSecret(kContentKeySize);
  const size_t header_size =
      kFixedHeaderSize + recipients.size() * kRecipientEntrySize;
  Bytes out(header_size + kPayloadTagSize + plaintext.size());
  std::memcpy(out.data(), kMagic, sizeof kMagic);
  out[kOffVersion] = kVersion;
  out[kOffAlgorithm] = kAlgorithmX25519XSalsa20Poly1305;
  PutU16(out.data() + kOffCount, static_cast<uint16_t>(recipients.size()));
  PutU32(out.data() + kOffPayloadLength,
         static_cast<uint32_t>(plaintext.size()));
  const Commitment commitment = KeyCommitment(content_key);
  std::memcpy(out.data() + kOffCommitment, commitment.data(),
              commitment.size());

  uint8_t* entry = out.data() + kFixedHeaderSize;
  for (const EnvelopeRecipientKey& r : recipients) {
    std::memcpy(entry, r.fingerprint().data(), kFingerprintSize);
    uint8_t* epk = entry + kEntryOffEphemeral;
    uint8_t* nonce = entry + kEntryOffNonce;
    SecretBytes esk(kSecretKeySize);
    crypto_box_keypair(epk, esk.mutable_data());
    crypto::RandomFill(absl::MakeSpan(nonce, kKeyNonceSize));
    if (crypto_box_easy(entry + kEntryOffSealedKey, content_key.data(),
                        content_key.size(), nonce, r.bytes().data(),
                        esk.data()) != 0) {
      return absl::InternalError(
          absl::StrCat("envelope: crypto_box_easy failed for recipient ",
                       FingerprintHex(r.fingerprint())));
    }
    entry += kRecipientEntrySize;
  }

  const PayloadNonce payload_nonce =
      DerivePayloadNonce(ByteView(out.data(), header_size));
  static constexpr uint8_t kEmpty[1] = {0};
  const uint8_t* m = plaintext.empty() ? kEmpty : plaintext.data();
  crypto_secretbox_easy(out.data() + header_size, m, plaintext.size(),
                        payload_nonce.data(), content_key.data());
  return out;
}

absl::StatusOr<SecretBytes> Open(ByteView envelope,
                                 const EnvelopePrivateKey& key) {
  if (absl::Status s = CheckPolicy(); !s.ok()) return s;
  if (absl::Status s = EnsureSodium(); !s.ok()) return s;
  absl::StatusOr<EnvelopeHeader> h = ParseHeader(envelope);
  if (!h.ok()) return h.status();

  const Fingerprint& fp = key.public_key().fingerprint();
  const int idx = h->FindRecipient(fp);
  if (idx < 0) {
    std::string listed;
    for (const RecipientEntry& e : h->recipients) {
      absl::StrAppend(&listed, listed.empty() ? "" : ", ",
                      FingerprintHex(e.fingerprint));
    }
    return absl::NotFoundError(
        absl::StrCat("envelope: no recipient entry for this key (fingerprint ",
                     FingerprintHex(fp), "); the envelope is addressed to ",
                     h->recipients.size(), " recipient(s): ", listed));
  }
  const RecipientEntry& e = h->recipients[static_cast<size_t>(idx)];

  SecretBytes content_key(kContentKeySize);
  if (crypto_box_open_easy(content_key.mutable_data(), e.sealed_key.data(),
                           e.sealed_key.size(), e.key_nonce.data(),
                           e.ephemeral_public_key.data(),
                           key.secret().data()) != 0) {
    return absl::UnauthenticatedError(absl::StrCat(
        "envelope: recipient entry ", idx,
        " failed authentication (sealed key or ephemeral key altered, or the "
        "entry was not sealed to this key)"));
  }
  const Commitment commitment = KeyCommitment(content_key);
  if (!crypto::ConstantTimeEquals(
          ByteView(commitment.data(), commitment.size()),
          ByteView(h->key_commitment.data(), h->key_commitment.size()))) {
    return absl::UnauthenticatedError(
        absl::StrCat("envelope: the content key in recipient entry ", idx,
                     " does not match the header's key commitment"));
  }

  const size_t header_size = h->header_size();
  const PayloadNonce payload_nonce =
      DerivePayloadNonce(ByteView(envelope.data(), header_size));
  SecretBytes plain(h->payload_length);
  uint8_t scratch[1] = {0};
  uint8_t* m = plain.empty() ? scratch : plain.mutable_data();
  if (crypto_secretbox_open_easy(
          m, envelope.data() + header_size, kPayloadTagSize + h->payload_length,
          payload_nonce.data(), content_key.data()) != 0) {
    return absl::UnauthenticatedError(
        "envelope: payload failed authentication (header or payload altered)");
  }
  return plain;
}

}  // namespace virtengine::envelope
