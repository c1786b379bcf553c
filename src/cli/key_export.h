// The armored, passphrase-encrypted export of one account key
// (`vectl keys export` / `keys import`; docs/cli/vectl.md "Key export file
// format" has it byte for byte):
//
//   -----BEGIN VIRTENGINE ED25519 KEY-----
//   Address: ve1...
//
//   <base64 of the 144-byte binary, 64 characters per line>
//   -----END VIRTENGINE ED25519 KEY-----
//
// Binary, version 1 (integers big-endian):
//   "VEKX" | 01 version | 01 ed25519 | 01 TX_SIGNATURE | 01 argon2id13
//   | ops limit (8) | memory limit bytes (8) | salt (16) | public key (32)
//   | sealed (72) = nonce (24) || XChaCha20-Poly1305(seed) (32) || tag (16)
// key = Argon2id(passphrase, salt, ops, mem, 32 bytes); the associated data
// is the 72 bytes before `sealed`, so no header byte can be changed.
#ifndef VIRTENGINE_SRC_CLI_KEY_EXPORT_H_
#define VIRTENGINE_SRC_CLI_KEY_EXPORT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "security/crypto/password.h"
#include "security/crypto/secret_bytes.h"
#include "security/keys/key_store.h"

namespace virtengine::cli {

inline constexpr std::string_view kExportMagic = "VEKX";
inline constexpr uint8_t kExportVersion = 1;
inline constexpr size_t kExportBinaryBytes = 144;
// An armored file is about 350 bytes; anything above this is refused unread.
inline constexpr size_t kMaxExportFileBytes = 4096;
// Cost bounds accepted on import (a tampered file must not exhaust memory).
inline constexpr uint64_t kMaxExportOps = 16;
inline constexpr uint64_t kMaxExportMemBytes = uint64_t{1} << 30U;
// Export passphrases are at least this long (as new key-store passphrases).
inline constexpr size_t kMinExportPassphraseBytes = 12;

// Encrypts an Ed25519 seed (32 bytes) under `passphrase` and armors it.
absl::StatusOr<std::string> ExportKey(
    const crypto::SecretBytes& seed, const crypto::SecretBytes& passphrase,
    crypto::Argon2Cost cost = crypto::Argon2Cost::Default());

struct ImportedKey {
  crypto::SecretBytes seed;
  std::string address;
};

// Parses and decrypts an armored export. InvalidArgument for a malformed
// file (naming what is wrong), Unauthenticated "wrong passphrase or the file
// was altered", DataLoss when the secret does not match the public key.
absl::StatusOr<ImportedKey> ImportKey(std::string_view armored,
                                      const crypto::SecretBytes& passphrase);

// The armor only (no decryption): the binary, after checking the lines and
// that the Address header matches the public key inside.
absl::StatusOr<std::string> Dearmor(std::string_view armored);

// The seed of `name`'s active Ed25519 key, read out of an encrypted backup
// of the store (security/keys exposes secrets only that way; the backup
// format is documented in docs/security/keys.md).
absl::StatusOr<crypto::SecretBytes> ActiveSeed(const keys::KeyStore& store,
                                               std::string_view name);

}  // namespace virtengine::cli

#endif  // VIRTENGINE_SRC_CLI_KEY_EXPORT_H_
