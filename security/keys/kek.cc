#include "security/keys/kek.h"

#include <array>
#include <utility>

#include "absl/strings/str_cat.h"
#include "security/crypto/random.h"
#include "security/keys/internal_util.h"

namespace virtengine::keys {

namespace {

constexpr uint8_t kParamsVersion = 1;
constexpr size_t kSaltSize = 16;
constexpr size_t kParamsSize = 1 + 8 + 8 + kSaltSize;

void PutU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>(v >> static_cast<unsigned>(shift)));
  }
}

uint64_t GetU64(std::string_view in) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8U) | static_cast<uint8_t>(in[i]);
  return v;
}

absl::Status CheckPassphrase(const crypto::SecretBytes& p, size_t min) {
  if (p.size() < min) {
    return absl::InvalidArgumentError(
        internal::Cat("keys: passphrase is ", p.size(), " bytes, at least ",
                      min, " required"));
  }
  if (p.size() > PassphraseKekProvider::kMaxPassphraseBytes) {
    return absl::InvalidArgumentError(
        internal::Cat("keys: passphrase longer than ",
                      PassphraseKekProvider::kMaxPassphraseBytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status CheckCostCeiling(crypto::Argon2Cost cost) {
  if (cost.ops_limit > PassphraseKekProvider::kMaxOpsLimit ||
      cost.mem_limit_bytes > PassphraseKekProvider::kMaxMemLimitBytes) {
    return absl::InvalidArgumentError(
        internal::Cat("keys: argon2id cost (ops ", cost.ops_limit, ", mem ",
                      cost.mem_limit_bytes, ") above the ceiling (ops ",
                      PassphraseKekProvider::kMaxOpsLimit, ", mem ",
                      PassphraseKekProvider::kMaxMemLimitBytes, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<NewKek> PassphraseKekProvider::CreateKek() {
  if (absl::Status s = CheckPassphrase(passphrase_, kMinNewPassphraseBytes);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckCostCeiling(cost_); !s.ok()) return s;
  std::array<uint8_t, kSaltSize> salt;
  crypto::RandomFill(absl::MakeSpan(salt));
  auto kek = crypto::DeriveKeyFromPassword(
      passphrase_, crypto::ByteView(salt.data(), salt.size()), kKekSize, cost_);
  if (!kek.ok()) return kek.status();
  NewKek out{*std::move(kek), std::string()};
  out.params.push_back(static_cast<char>(kParamsVersion));
  PutU64(&out.params, cost_.ops_limit);
  PutU64(&out.params, cost_.mem_limit_bytes);
  out.params.append(reinterpret_cast<const char*>(salt.data()), salt.size());
  return out;
}

absl::StatusOr<crypto::SecretBytes> PassphraseKekProvider::UnlockKek(
    std::string_view params) {
  if (params.size() != kParamsSize ||
      static_cast<uint8_t>(params[0]) != kParamsVersion) {
    return absl::InvalidArgumentError(
        internal::Cat("keys: passphrase KEK parameters are malformed (",
                      params.size(), " bytes, want ", kParamsSize,
                      " starting with version ", kParamsVersion, ")"));
  }
  if (absl::Status s = CheckPassphrase(passphrase_, 1); !s.ok()) return s;
  crypto::Argon2Cost cost;
  cost.ops_limit = GetU64(params.substr(1, 8));
  cost.mem_limit_bytes = GetU64(params.substr(9, 8));
  if (absl::Status s = CheckCostCeiling(cost); !s.ok()) return s;
  return crypto::DeriveKeyFromPassword(
      passphrase_, crypto::AsBytes(params.substr(17, kSaltSize)), kKekSize,
      cost);
}

}  // namespace virtengine::keys
