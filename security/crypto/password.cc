#include "security/crypto/password.h"

#include <sodium.h>

#include "absl/strings/str_cat.h"
#include "security/crypto/policy.h"
#include "security/crypto/sodium_init.h"

namespace virtengine::crypto {

namespace v1 = ::virtengine::security::crypto::v1;

namespace {

constexpr size_t kMaxPasswordBytes = 4096;
constexpr size_t kMaxStoredBytes = crypto_pwhash_STRBYTES;

absl::Status CheckCost(const SecretBytes& password, Argon2Cost cost) {
  if (absl::Status s = CheckAllowed(v1::PASSWORD_HASH, v1::ARGON2ID); !s.ok()) {
    return s;
  }
  auto policy = ActivePolicy();
  if (cost.ops_limit < policy->argon2_min_ops() ||
      cost.mem_limit_bytes < policy->argon2_min_mem_bytes()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "argon2id: cost (ops ", cost.ops_limit, ", mem ", cost.mem_limit_bytes,
        ") is below the policy minimum (ops ", policy->argon2_min_ops(),
        ", mem ", policy->argon2_min_mem_bytes(), ")"));
  }
  if (cost.ops_limit > crypto_pwhash_OPSLIMIT_MAX ||
      cost.mem_limit_bytes > crypto_pwhash_MEMLIMIT_MAX) {
    return absl::InvalidArgumentError("argon2id: cost above libsodium maximum");
  }
  if (password.size() > kMaxPasswordBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "argon2id: password longer than ", kMaxPasswordBytes, " bytes"));
  }
  internal::EnsureSodium();
  return absl::OkStatus();
}

}  // namespace

Argon2Cost Argon2Cost::Default() {
  auto policy = ActivePolicy();
  return Argon2Cost{policy->argon2_min_ops(), policy->argon2_min_mem_bytes()};
}

absl::StatusOr<std::string> HashPassword(const SecretBytes& password,
                                         Argon2Cost cost) {
  if (absl::Status s = CheckCost(password, cost); !s.ok()) return s;
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, reinterpret_cast<const char*>(password.data()),
                            password.size(), cost.ops_limit,
                            static_cast<size_t>(cost.mem_limit_bytes),
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return absl::ResourceExhaustedError("argon2id: out of memory");
  }
  return std::string(out);
}

absl::Status VerifyPassword(std::string_view stored,
                            const SecretBytes& password) {
  if (absl::Status s = CheckAllowed(v1::PASSWORD_HASH, v1::ARGON2ID); !s.ok()) {
    return s;
  }
  if (stored.size() >= kMaxStoredBytes ||
      stored.substr(0, 10) != "$argon2id$") {
    return absl::InvalidArgumentError(
        "argon2id: stored hash is not an $argon2id$ string");
  }
  if (password.size() > kMaxPasswordBytes) {
    return absl::UnauthenticatedError("argon2id: password does not match");
  }
  internal::EnsureSodium();
  const std::string s(stored);  // NUL-terminated for libsodium
  if (crypto_pwhash_str_verify(s.c_str(),
                               reinterpret_cast<const char*>(password.data()),
                               password.size()) != 0) {
    return absl::UnauthenticatedError("argon2id: password does not match");
  }
  return absl::OkStatus();
}

absl::StatusOr<SecretBytes> DeriveKeyFromPassword(const SecretBytes& password,
                                                  ByteView salt, size_t key_len,
                                                  Argon2Cost cost) {
  if (absl::Status s = CheckCost(password, cost); !s.ok()) return s;
  if (salt.size() != crypto_pwhash_SALTBYTES) {
    return absl::InvalidArgumentError(absl::StrCat("argon2id: salt is ",
                                                   salt.size(), " bytes, want ",
                                                   crypto_pwhash_SALTBYTES));
  }
  if (key_len < 16 || key_len > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("argon2id: key length ", key_len, " not in [16, 64]"));
  }
  SecretBytes key(key_len);
  if (crypto_pwhash(key.mutable_data(), key.size(),
                    reinterpret_cast<const char*>(password.data()),
                    password.size(), salt.data(), cost.ops_limit,
                    static_cast<size_t>(cost.mem_limit_bytes),
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return absl::ResourceExhaustedError("argon2id: out of memory");
  }
  return key;
}

}  // namespace virtengine::crypto
