// security/envelope: versioned, multi-recipient X25519-XSalsa20-Poly1305
// envelopes (format version 1, documented byte for byte in
// docs/security/envelope.md).
//
// A fresh random 32-byte content key encrypts the payload once
// (crypto_secretbox_easy); the content key is sealed to each recipient with
// crypto_box_easy under a fresh ephemeral X25519 key pair and a random nonce;
// each recipient entry is addressed by the recipient key's 16-byte
// fingerprint. The whole header (magic, version, algorithm, counts, key
// commitment, every recipient entry) is bound into the payload encryption:
// the payload nonce is derived from a SHA-256 of the exact header bytes, so
// an altered header makes the payload fail authentication. A SHA-256 key
// commitment in the header makes every recipient that opens an envelope get
// the same content key, hence the same plaintext.
//
//   auto key = EnvelopePrivateKey::Generate();
//   auto env = Seal(AsBytes("scope"), {key->public_key()});
//   auto plain = Open(*env, *key);          // SecretBytes "scope"
//   auto hdr = ParseHeader(*env);           // recipients, without decrypting
//
// Envelopes are confidential and integrity-protected but anonymous: anyone
// holding a recipient's public key can make an envelope for it, so sender
// authenticity comes from elsewhere (e.g. a signature over the envelope).
#ifndef VIRTENGINE_SECURITY_ENVELOPE_ENVELOPE_H_
#define VIRTENGINE_SECURITY_ENVELOPE_ENVELOPE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "security/crypto/bytes.h"
#include "security/crypto/secret_bytes.h"

namespace virtengine::envelope {

using crypto::Bytes;
using crypto::ByteView;
using crypto::SecretBytes;

// Format constants (docs/security/envelope.md, "Layout").
inline constexpr uint8_t kMagic[4] = {'V', 'E', 'N', 'V'};
inline constexpr uint8_t kVersion = 1;
inline constexpr uint8_t kAlgorithmX25519XSalsa20Poly1305 = 1;
inline constexpr size_t kFixedHeaderSize = 44;
inline constexpr size_t kFingerprintSize = 16;
inline constexpr size_t kPublicKeySize = 32;
inline constexpr size_t kSecretKeySize = 32;
inline constexpr size_t kContentKeySize = 32;
inline constexpr size_t kKeyNonceSize = 24;
inline constexpr size_t kSealedKeySize = 48;  // 16-byte MAC + 32-byte key
inline constexpr size_t kRecipientEntrySize = 120;
inline constexpr size_t kPayloadTagSize = 16;
// Limits.
inline constexpr size_t kMaxRecipients = 16;
inline constexpr size_t kMaxPayloadBytes = 16 * 1024 * 1024;
inline constexpr size_t kMaxEnvelopeBytes =
    kFixedHeaderSize + kMaxRecipients * kRecipientEntrySize + kPayloadTagSize +
    kMaxPayloadBytes;

using Fingerprint = std::array<uint8_t, kFingerprintSize>;

// Lowercase hex of a fingerprint (for messages and listings).
std::string FingerprintHex(const Fingerprint& fp);

// An X25519 public key that envelopes can be sealed to.
class EnvelopeRecipientKey {
 public:
  // InvalidArgument unless `bytes` is 32 bytes and not a point of small
  // order (such a key would give an all-zero shared secret).
  static absl::StatusOr<EnvelopeRecipientKey> FromBytes(ByteView bytes);

  const std::array<uint8_t, kPublicKeySize>& bytes() const { return key_; }
  ByteView view() const { return ByteView(key_.data(), key_.size()); }
  // First 16 bytes of SHA-256("VirtEngine-Envelope-X25519-Fingerprint-v1"
  // || public key).
  const Fingerprint& fingerprint() const { return fingerprint_; }
  bool operator==(const EnvelopeRecipientKey& o) const {
    return key_ == o.key_;
  }

 private:
  EnvelopeRecipientKey(const std::array<uint8_t, kPublicKeySize>& key,
                       const Fingerprint& fp)
      : key_(key), fingerprint_(fp) {}
  std::array<uint8_t, kPublicKeySize> key_;
  Fingerprint fingerprint_;
};

// An X25519 private key (libsodium crypto_box secret key, 32 bytes, kept in
// SecretBytes and zeroed on release) with its public key.
class EnvelopePrivateKey {
 public:
  // crypto_box_keypair. PermissionDenied if the crypto policy does not allow
  // X25519_XSALSA20_POLY1305 for ENVELOPE.
  static absl::StatusOr<EnvelopePrivateKey> Generate();
  // From a stored 32-byte secret key (the public key is derived with
  // crypto_scalarmult_base). InvalidArgument for a wrong size or a secret
  // whose public key is unusable.
  static absl::StatusOr<EnvelopePrivateKey> FromBytes(
      const SecretBytes& secret);

  const EnvelopeRecipientKey& public_key() const { return public_key_; }
  // For the key store only (sealing, backup).
  const SecretBytes& secret() const { return secret_; }

 private:
  EnvelopePrivateKey(SecretBytes secret, EnvelopeRecipientKey pub)
      : secret_(std::move(secret)), public_key_(pub) {}
  SecretBytes secret_;
  EnvelopeRecipientKey public_key_;
};

// The names used in the design notes.
using X25519PublicKey = EnvelopeRecipientKey;
using X25519PrivateKey = EnvelopePrivateKey;

// One recipient entry as it is on the wire.
struct RecipientEntry {
  Fingerprint fingerprint{};
  std::array<uint8_t, kPublicKeySize> ephemeral_public_key{};
  std::array<uint8_t, kKeyNonceSize> key_nonce{};
  std::array<uint8_t, kSealedKeySize> sealed_key{};

  bool operator==(const RecipientEntry& o) const {
    return fingerprint == o.fingerprint &&
           ephemeral_public_key == o.ephemeral_public_key &&
           key_nonce == o.key_nonce && sealed_key == o.sealed_key;
  }
};

// A parsed, structurally valid header.
struct EnvelopeHeader {
  uint8_t version = kVersion;
  uint8_t algorithm = kAlgorithmX25519XSalsa20Poly1305;
  uint32_t payload_length = 0;  // plaintext bytes
  std::array<uint8_t, 32> key_commitment{};
  std::vector<RecipientEntry> recipients;

  // 44 + 120 * recipients.
  size_t header_size() const;
  // header_size() + 16 + payload_length: the exact size of the envelope.
  size_t envelope_size() const;
  // The header bytes exactly as on the wire.
  Bytes Encode() const;
  // Index of the entry addressed to `fp`, or -1.
  int FindRecipient(const Fingerprint& fp) const;

  bool operator==(const EnvelopeHeader& o) const {
    return version == o.version && algorithm == o.algorithm &&
           payload_length == o.payload_length &&
           key_commitment == o.key_commitment && recipients == o.recipients;
  }
};

// Encrypts `plaintext` (at most 16 MiB) to 1..16 distinct recipients. The
// content key, ephemeral keys and nonces come from the CSPRNG.
// InvalidArgument for too many or too few recipients, a repeated recipient,
// or an oversize plaintext; PermissionDenied when the policy refuses.
absl::StatusOr<Bytes> Seal(ByteView plaintext,
                           absl::Span<const EnvelopeRecipientKey> recipients);

// Decrypts an envelope with one recipient's key. InvalidArgument when the
// envelope is malformed (see ParseHeader); NotFound when no entry carries the
// key's fingerprint; Unauthenticated when the key's entry, the key
// commitment or the payload fails authentication (altered header or
// payload, or an entry not sealed to this key); PermissionDenied when the
// policy refuses.
absl::StatusOr<SecretBytes> Open(ByteView envelope,
                                 const EnvelopePrivateKey& key);

// Strictly decodes and checks an envelope's structure without decrypting
// (to list its recipients). `envelope` is the whole envelope: its size must
// be exactly header_size + 16 + payload_length. InvalidArgument, with the
// first failing rule in the message: too short, bad magic, unsupported
// version, unsupported algorithm, recipient count outside 1..16, payload
// length over 16 MiB, truncated, trailing bytes, duplicate fingerprints.
// Nothing is authenticated until Open succeeds.
absl::StatusOr<EnvelopeHeader> ParseHeader(ByteView envelope);

}  // namespace virtengine::envelope

#endif  // VIRTENGINE_SECURITY_ENVELOPE_ENVELOPE_H_
