// Key-encryption key (KEK) providers: where the key that seals every record
// of a key store comes from. The store persists the provider's kind and its
// (non-secret) parameters in keys/keystore.meta and asks the provider for the
// KEK each time it is opened; a wrong secret input (passphrase) is detected
// by the store's KEK check.
//
// Providers today: PassphraseKekProvider (Argon2id). The extension point for
// TPM sealing is this interface: a TPM provider's CreateKek draws a random
// KEK and seals it to the TPM under a PCR policy, returning the sealed blob as
// `params`; UnlockKek unseals it. Nothing else in the store changes (see
// docs/security/keys.md, "KEK providers").
#ifndef VIRTENGINE_SECURITY_KEYS_KEK_H_
#define VIRTENGINE_SECURITY_KEYS_KEK_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/crypto/password.h"
#include "security/crypto/secret_bytes.h"

namespace virtengine::keys {

inline constexpr size_t kKekSize = 32;

struct NewKek {
  crypto::SecretBytes kek;  // kKekSize bytes
  std::string params;       // stored in the clear; at most 1024 bytes
};

class KekProvider {
 public:
  virtual ~KekProvider() = default;

  // A stable identifier, 1..32 bytes of [a-z0-9-], stored in the meta file;
  // a store is only opened by a provider of the same kind.
  virtual std::string kind() const = 0;

  // For a new store: a fresh KEK and the parameters UnlockKek needs later.
  virtual absl::StatusOr<NewKek> CreateKek() = 0;

  // For an existing store: the KEK from the parameters CreateKek returned.
  // A provider that cannot tell a wrong secret from a right one returns some
  // key; the store's KEK check then fails (Unauthenticated).
  virtual absl::StatusOr<crypto::SecretBytes> UnlockKek(
      std::string_view params) = 0;
};

// KEK = Argon2id(passphrase, random 16-byte salt), 32 bytes. Parameters
// (33 bytes): version (1, = 1) | ops limit (8, BE) | memory limit in bytes
// (8, BE) | salt (16). The cost is the policy minimum unless given; a store
// whose stored cost is below the active policy's minimum, or above
// 16 passes / 4 GiB (a tampered file must not exhaust the machine), is
// refused.
class PassphraseKekProvider final : public KekProvider {
 public:
  static constexpr std::string_view kKind = "passphrase-argon2id";
  // Passphrases for new stores must be at least this long (bytes).
  static constexpr size_t kMinNewPassphraseBytes = 12;
  static constexpr size_t kMaxPassphraseBytes = 1024;
  static constexpr uint64_t kMaxOpsLimit = 16;
  static constexpr uint64_t kMaxMemLimitBytes = uint64_t{4} << 30U;

  explicit PassphraseKekProvider(
      crypto::SecretBytes passphrase,
      crypto::Argon2Cost cost = crypto::Argon2Cost::Default())
      : passphrase_(std::move(passphrase)), cost_(cost) {}

  std::string kind() const override { return std::string(kKind); }
  absl::StatusOr<NewKek> CreateKek() override;
  absl::StatusOr<crypto::SecretBytes> UnlockKek(
      std::string_view params) override;

 private:
  crypto::SecretBytes passphrase_;
  crypto::Argon2Cost cost_;
};

}  // namespace virtengine::keys

#endif  // VIRTENGINE_SECURITY_KEYS_KEK_H_
