// security/keys: the node's on-disk key store.
//
// Layout under the node's home (every file through security/path):
//   <home>/keys/                  directory, 0700
//   <home>/keys/keystore.meta     KEK provider kind + parameters + KEK check
//   <home>/keys/<key id>.key      one record per key, 0600
// Every record's secret is sealed (XChaCha20-Poly1305, purpose KEY_WRAP)
// under a key derived from the KEK and the store id, with the record's whole
// metadata (key id, name, algorithm, purpose, state, generation, timestamps,
// public key) as associated data: a record whose metadata was edited, or
// whose ciphertext was swapped with another record's, fails to open
// (Unauthenticated). Formats: key_record.h and docs/security/keys.md.
//
// Keys have a name ("node", "operator", "account-alice", "enclave") and
// generations: Rotate(name) makes a new active key and demotes the old one
// to "rotated" (verifies and decrypts, never signs) until it is retired.
// Revoke destroys a key's secret for good: it can never sign or become
// active again, and Verify with it reports that it is revoked.
//
//   PassphraseKekProvider kek(crypto::SecretBytes::CopyFrom(passphrase));
//   auto store = KeyStore::Open(home, kek, SystemWallClock::Get());
//   auto signed_by = (*store)->SignAsActive("node", message);
//
// A KeyStore is thread-safe. One process at a time may open a store.
#ifndef VIRTENGINE_SECURITY_KEYS_KEY_STORE_H_
#define VIRTENGINE_SECURITY_KEYS_KEY_STORE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "security/crypto/aead.h"
#include "security/crypto/bytes.h"
#include "security/crypto/ed25519.h"
#include "security/crypto/policy.h"
#include "security/crypto/secret_bytes.h"
#include "security/keys/kek.h"
#include "security/keys/key_record.h"
#include "security/path/path.h"

namespace virtengine::keys {

// The wall clock the store stamps records with; injected so that tests (and
// replays) choose the time. Must return a time after 1970.
class WallClock {
 public:
  virtual ~WallClock() = default;
  virtual absl::Time Now() = 0;
};

class SystemWallClock final : public WallClock {
 public:
  absl::Time Now() override;
  static SystemWallClock* Get();  // process-wide, never destroyed
};

// Lowercase hex SHA-256 (purpose FINGERPRINT) of the raw public key bytes
// (32 bytes for Ed25519 and X25519): 64 characters.
absl::StatusOr<std::string> Fingerprint(crypto::ByteView public_key);

// What the store tells about a key (never its secret).
struct KeyInfo {
  std::string key_id;  // 32 lowercase hex digits (16 random bytes)
  std::string name;
  KeyAlgorithm algorithm = KeyAlgorithm::kEd25519;
  crypto::Purpose purpose = crypto::Purpose();
  KeyState state = KeyState::kActive;
  uint32_t generation = 0;
  absl::Time created_at;
  std::optional<absl::Time> rotated_at;
  std::optional<absl::Time> retired_at;
  std::optional<absl::Time> revoked_at;
  crypto::Bytes public_key;
  std::string fingerprint;  // Fingerprint(public_key)

  bool operator==(const KeyInfo& o) const;
};

struct SignedBy {
  std::string key_id;
  crypto::Ed25519Signature signature;
};

// An encrypted backup: `file` holds every key of the store sealed under
// `backup_key` (32 random bytes, to be split with SplitSecret and never
// stored next to the file).
struct BackupExport {
  std::string file;
  crypto::SecretBytes backup_key;
  std::string backup_id;  // 32 lowercase hex digits, printed in the file
  size_t key_count = 0;
};

class KeyStore {
 public:
  // Creates <home>/keys (0700) and keystore.meta for a new, empty store.
  // AlreadyExists when keystore.meta exists. `clock` must outlive the store.
  static absl::StatusOr<std::unique_ptr<KeyStore>> Create(
      const security::path::PathRoot& home, KekProvider& kek, WallClock* clock);

  // Opens the store under <home>/keys, unlocking the KEK and authenticating
  // every record. Errors: NotFound (no keystore.meta), FailedPrecondition (a
  // different KEK provider kind, a record file not 0600 or not owned by this
  // user, an unexpected *.key name), Unauthenticated (wrong passphrase/KEK:
  // "KEK check failed"; or a record that was altered, swapped or moved
  // between stores, naming the file), InvalidArgument (a malformed file,
  // naming it), DataLoss (records that contradict each other). Files named
  // ".ve-tmp-*" (left by an interrupted atomic write) are ignored. If a
  // rotation was interrupted (two active keys for one name) the older one is
  // demoted to rotated here.
  static absl::StatusOr<std::unique_ptr<KeyStore>> Open(
      const security::path::PathRoot& home, KekProvider& kek, WallClock* clock);

  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;
  ~KeyStore();

  // A new random key, generation 1, for a name that has no keys yet
  // (AlreadyExists otherwise: use Rotate). The purpose must fit the
  // algorithm (CheckAlgorithmPurpose) and the crypto policy.
  absl::StatusOr<KeyInfo> Generate(std::string_view name,
                                   KeyAlgorithm algorithm,
                                   crypto::Purpose purpose);
  // As Generate, with the given secret (an Ed25519 seed or an X25519 secret
  // key, 32 bytes).
  absl::StatusOr<KeyInfo> Import(std::string_view name, KeyAlgorithm algorithm,
                                 crypto::Purpose purpose,
                                 const crypto::SecretBytes& secret);
  // A new active key (next generation, same algorithm and purpose) for a
  // name that has keys; the previous active key, if any, becomes rotated.
  // NotFound for an unknown name.
  absl::StatusOr<KeyInfo> Rotate(std::string_view name);
  // Destroys the key's secret and marks it revoked (from any other state).
  // FailedPrecondition if it is already revoked.
  absl::Status Revoke(std::string_view key_id);
  // Destroys a rotated key's secret; it no longer verifies. Only rotated
  // keys retire (FailedPrecondition otherwise: rotate an active key first).
  absl::Status Retire(std::string_view key_id);

  absl::StatusOr<KeyInfo> Get(std::string_view key_id) const;
  // The name's active key; NotFound if the name has none (unknown, or its
  // active key was revoked and not yet replaced by Rotate).
  absl::StatusOr<KeyInfo> ActiveKey(std::string_view name) const;
  // Every key, ordered by name, then generation.
  std::vector<KeyInfo> List() const;

  // Ed25519 signature by an active key. PermissionDenied for a revoked key,
  // FailedPrecondition for a rotated or retired key or a non-signing key.
  absl::StatusOr<crypto::Ed25519Signature> Sign(std::string_view key_id,
                                                crypto::ByteView message) const;
  // The 32-byte seed of an ACTIVE Ed25519 key, for an explicit, encrypted
  // export by its owner (vectl keys export); errors as for Sign. Callers
  // must never log or store it in the clear.
  absl::StatusOr<crypto::SecretBytes> ExportEd25519Seed(
      std::string_view key_id) const;
  absl::StatusOr<SignedBy> SignAsActive(std::string_view name,
                                        crypto::ByteView message) const;
  // OK when `signature` is a valid signature of `message` by the key and the
  // key is active or rotated. Unauthenticated for a bad signature,
  // PermissionDenied "revoked" for a revoked key, FailedPrecondition for a
  // retired one, NotFound for an unknown key id.
  absl::Status Verify(std::string_view key_id, crypto::ByteView message,
                      crypto::ByteView signature) const;

  // The 32-byte X25519 secret key of an active or rotated X25519 key (to
  // open envelopes addressed to it). Errors as for Sign.
  absl::StatusOr<crypto::SecretBytes> X25519SecretKey(
      std::string_view key_id) const;

  // Every key (including revoked and retired ones, without secrets) in one
  // file sealed under a fresh random backup key.
  absl::StatusOr<BackupExport> ExportBackup() const;
  // Restores a backup into this store: keys it does not have are added
  // (re-sealed under this store's KEK); keys it has keep whichever state is
  // further along (active < rotated < retired < revoked), so a restore never
  // resurrects a key this store has revoked or retired. Unauthenticated for a
  // wrong backup key or an altered file; FailedPrecondition when the backup
  // contradicts the store (same key id with other metadata, or the same name
  // and generation with another key) — then nothing is written. Returns the
  // number of keys written.
  absl::StatusOr<size_t> RestoreBackup(std::string_view file,
                                       const crypto::SecretBytes& backup_key);

 private:
  struct Entry {
    KeyRecordHeader header;
    crypto::Bytes sealed;
  };

  KeyStore(security::path::PathRoot dir, crypto::Aead wrap, WallClock* clock);

  static absl::StatusOr<std::unique_ptr<KeyStore>> OpenDir(
      security::path::PathRoot dir, KekProvider& kek, WallClock* clock,
      std::optional<StoreMeta> created);

  absl::Status LoadAll() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status RepairActive() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<int64_t> NowSeconds() const;
  absl::StatusOr<crypto::SecretBytes> OpenSecret(const Entry& e) const;
  // An active Ed25519 key, its seed checked against the stored public key.
  absl::StatusOr<crypto::Ed25519PrivateKey> SigningKey(
      std::string_view key_id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::StatusOr<Entry> Seal(const KeyRecordHeader& h,
                             const crypto::SecretBytes& secret) const;
  absl::Status WriteEntry(const Entry& e) const;
  absl::StatusOr<KeyInfo> AddKey(std::string_view name, KeyAlgorithm algorithm,
                                 crypto::Purpose purpose,
                                 const crypto::SecretBytes& secret,
                                 uint32_t generation)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ChangeState(const std::string& id_hex, KeyState to, int64_t now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<const Entry*> FindUsable(std::string_view key_id,
                                          KeyAlgorithm algorithm,
                                          bool for_signing) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  security::path::PathRoot dir_;
  crypto::Aead wrap_;
  WallClock* clock_;
  mutable absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);  // by id hex
};

}  // namespace virtengine::keys

#endif  // VIRTENGINE_SECURITY_KEYS_KEY_STORE_H_
