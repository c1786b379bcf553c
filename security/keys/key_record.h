// The on-disk formats of the key store, version 1 (docs/security/keys.md has
// them byte for byte). All integers are big-endian; every decoder is strict:
// exact magic and version, every field in range, no trailing bytes, and an
// accepted input re-encodes to exactly the same bytes. Decoders check
// structure only; authenticity is the AEAD's job (key_store.cc).
//
//   keys/<key id>.key    a key record (kRecordMagic "VEKR")
//   keys/keystore.meta   the store's KEK parameters and check (kMetaMagic)
//   backup file          all keys, sealed under a backup key (kBackupMagic)
#ifndef VIRTENGINE_SECURITY_KEYS_KEY_RECORD_H_
#define VIRTENGINE_SECURITY_KEYS_KEY_RECORD_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/crypto/bytes.h"
#include "security/crypto/policy.h"
#include "security/crypto/secret_bytes.h"

namespace virtengine::keys {

inline constexpr std::string_view kRecordMagic = "VEKR";
inline constexpr std::string_view kMetaMagic = "VEKS";
inline constexpr std::string_view kBackupMagic = "VEKB";
inline constexpr uint8_t kFormatVersion = 1;

inline constexpr size_t kKeyIdSize = 16;
inline constexpr size_t kStoreIdSize = 16;
inline constexpr size_t kBackupIdSize = 16;
inline constexpr size_t kMaxNameBytes = 64;
inline constexpr size_t kMaxKekKindBytes = 32;
inline constexpr size_t kMaxKekParamsBytes = 1024;
inline constexpr size_t kMaxRecordBytes = 4096;
inline constexpr size_t kMaxMetaBytes = 4096;
inline constexpr size_t kMaxKeysPerStore = 4096;
inline constexpr size_t kMaxBackupBytes = 4 * 1024 * 1024;
// Sealed = nonce (24) || ciphertext || tag (16) (security/crypto Aead).
inline constexpr size_t kSealOverhead = 40;

// Algorithm tag of a record. Both keep a 32-byte secret and a 32-byte public
// key; a new algorithm gets a new tag (and sizes) here.
enum class KeyAlgorithm : uint8_t {
  kEd25519 = 1,  // secret: RFC 8032 seed; public: Ed25519 public key
  kX25519 = 2,   // secret: crypto_box secret scalar; public: X25519 point
};

// Ordered by finality: a key's state only ever increases.
enum class KeyState : uint8_t {
  kActive = 1,   // signs (or decrypts) and verifies; one per name
  kRotated = 2,  // superseded: verifies / decrypts, never signs
  kRetired = 3,  // secret destroyed; no longer accepted for anything
  kRevoked = 4,  // compromised or withdrawn: secret destroyed, terminal
};

std::string KeyAlgorithmName(KeyAlgorithm a);  // "ed25519", "x25519"
std::string KeyStateName(KeyState s);          // "active", ...

// Secret and public key sizes of an algorithm (32 for both).
size_t SecretKeySize(KeyAlgorithm a);
size_t PublicKeySize(KeyAlgorithm a);

// OK when `purpose` is one a key of `algorithm` may have: Ed25519 for
// TX_SIGNATURE, NODE_SIGNATURE, OPERATOR_SIGNATURE; X25519 for ENVELOPE.
absl::Status CheckAlgorithmPurpose(KeyAlgorithm algorithm,
                                   crypto::Purpose purpose);

// Key names: 1..64 bytes of [a-z0-9._-], starting with [a-z0-9].
absl::Status ValidateKeyName(std::string_view name);

// The authenticated metadata of a key: the record up to (not including) the
// sealed secret, and the associated data of its seal.
struct KeyRecordHeader {
  KeyAlgorithm algorithm = KeyAlgorithm::kEd25519;
  crypto::Purpose purpose = crypto::Purpose();
  KeyState state = KeyState::kActive;
  std::array<uint8_t, kKeyIdSize> key_id{};
  uint32_t generation = 0;  // 1 for a name's first key, +1 per rotation
  int64_t created_at = 0;   // Unix seconds, > 0
  int64_t rotated_at = 0;   // Unix seconds, 0 = not set
  int64_t retired_at = 0;
  int64_t revoked_at = 0;
  std::vector<uint8_t> public_key;
  std::string name;

  bool operator==(const KeyRecordHeader& o) const;
  bool operator!=(const KeyRecordHeader& o) const { return !(*this == o); }
};

// Whether a key in `state` still holds its secret (active, rotated).
bool StateHasSecret(KeyState state);

// Checks every field and the state/timestamp rules (docs: "States").
absl::Status ValidateHeader(const KeyRecordHeader& h);

// Encodes a header (which must validate).
std::string EncodeHeader(const KeyRecordHeader& h);
// Decodes a header from the front of `in`; sets *consumed to its length.
absl::StatusOr<KeyRecordHeader> DecodeHeaderPrefix(std::string_view in,
                                                   size_t* consumed);

struct KeyRecord {
  KeyRecordHeader header;
  crypto::Bytes sealed;  // Aead(KEY_WRAP) of the secret, AD = header bytes
};

// Size of the sealed field for a header: overhead + the secret size, or just
// the overhead when the state holds no secret.
size_t SealedSize(const KeyRecordHeader& h);

std::string EncodeKeyRecord(const KeyRecord& r);
// InvalidArgument naming the offending field; also refuses a sealed field
// whose size does not match SealedSize.
absl::StatusOr<KeyRecord> DecodeKeyRecord(std::string_view bytes);

// keys/keystore.meta.
struct StoreMeta {
  std::array<uint8_t, kStoreIdSize> store_id{};
  std::string kek_kind;     // 1..32 bytes of [a-z0-9-]
  std::string kek_params;   // 0..1024 bytes, provider-defined, not secret
  crypto::Bytes kek_check;  // Aead seal of nothing: kSealOverhead bytes
};
// The bytes the KEK check seal authenticates (everything before it).
std::string EncodeMetaPrefix(const StoreMeta& m);
std::string EncodeStoreMeta(const StoreMeta& m);
absl::StatusOr<StoreMeta> DecodeStoreMeta(std::string_view bytes);

// A backup file's outer layer.
struct BackupFile {
  std::array<uint8_t, kBackupIdSize> backup_id{};
  int64_t created_at = 0;  // Unix seconds, > 0
  crypto::Bytes sealed;    // Aead of the payload, AD = the bytes before it
};
std::string EncodeBackupPrefix(const BackupFile& b);  // the AD
std::string EncodeBackupFile(const BackupFile& b);
absl::StatusOr<BackupFile> DecodeBackupFile(std::string_view bytes);

// A backup's sealed payload: every key's header and secret (empty when the
// state holds none).
struct BackupEntry {
  KeyRecordHeader header;
  crypto::SecretBytes secret;
};
crypto::SecretBytes EncodeBackupPayload(const std::vector<BackupEntry>& e);
absl::StatusOr<std::vector<BackupEntry>> DecodeBackupPayload(
    crypto::ByteView bytes);

}  // namespace virtengine::keys

#endif  // VIRTENGINE_SECURITY_KEYS_KEY_RECORD_H_
