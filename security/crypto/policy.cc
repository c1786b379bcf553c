#include "security/crypto/policy.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "security/crypto/sodium_init.h"

namespace virtengine::crypto {
namespace internal {
extern const char kEmbeddedPolicy[];
}  // namespace internal

namespace v1 = ::virtengine::security::crypto::v1;

namespace {

enum class Kind { kNone, kSignature, kHash, kKdf, kMac, kPwhash, kPke, kAead };

Kind AlgorithmKind(Algorithm a) {
  switch (a) {
    case v1::ED25519:
    case v1::ECDSA_P256_SHA256:
      return Kind::kSignature;
    case v1::SHA256:
    case v1::SHA512:
    case v1::BLAKE2B:
      return Kind::kHash;
    case v1::HKDF_SHA256:
      return Kind::kKdf;
    case v1::HMAC_SHA256:
    case v1::HMAC_SHA1:
      return Kind::kMac;
    case v1::ARGON2ID:
      return Kind::kPwhash;
    case v1::X25519_XSALSA20_POLY1305:
      return Kind::kPke;
    case v1::XCHACHA20_POLY1305:
      return Kind::kAead;
    default:
      return Kind::kNone;  // not implemented (MD5, SHA1, RSA_PKCS1V15, ...)
  }
}

Kind PurposeKind(Purpose p) {
  switch (p) {
    case v1::TX_SIGNATURE:
    case v1::NODE_SIGNATURE:
    case v1::OPERATOR_SIGNATURE:
    case v1::WEBAUTHN:
    case v1::TPM_ATTESTATION:
      return Kind::kSignature;
    case v1::CONTENT_HASH:
    case v1::MERKLE:
    case v1::AUDIT_CHAIN:
    case v1::FINGERPRINT:
      return Kind::kHash;
    case v1::KEY_DERIVATION:
      return Kind::kKdf;
    case v1::MESSAGE_AUTH:
    case v1::MFA_TOTP:
      return Kind::kMac;
    case v1::PASSWORD_HASH:
      return Kind::kPwhash;
    case v1::ENVELOPE:
      return Kind::kPke;
    case v1::KEY_WRAP:
      return Kind::kAead;
    default:
      return Kind::kNone;
  }
}

std::string Sha256Hex(std::string_view text) {
  internal::EnsureSodium();
  unsigned char d[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(d, reinterpret_cast<const unsigned char*>(text.data()),
                     text.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * sizeof d);
  for (unsigned char c : d) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

// Collects parser errors with line and column instead of logging them.
class ErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (first_.empty()) {
      first_ = absl::StrCat("line ", line + 1, ":", column + 1, ": ", message);
    }
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

}  // namespace

std::string AlgorithmName(Algorithm a) {
  const std::string& n = v1::Algorithm_Name(a);
  return n.empty() ? absl::StrCat("algorithm#", static_cast<int>(a)) : n;
}

std::string PurposeName(Purpose p) {
  const std::string& n = v1::Purpose_Name(p);
  return n.empty() ? absl::StrCat("purpose#", static_cast<int>(p)) : n;
}

absl::StatusOr<CryptoPolicy> CryptoPolicy::Parse(std::string_view text) {
  if (text.size() > kMaxPolicyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("crypto policy: ", text.size(), " bytes exceeds limit of ",
                     kMaxPolicyBytes));
  }
  v1::CryptoPolicy proto;
  google::protobuf::TextFormat::Parser parser;
  ErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  parser.AllowUnknownField(false);
  parser.AllowUnknownExtension(false);
  if (!parser.ParseFromString(std::string(text), &proto)) {
    return absl::InvalidArgumentError(
        absl::StrCat("crypto policy: syntax: ", errors.first()));
  }
  if (proto.version() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "crypto policy: unsupported version ", proto.version(), " (want 1)"));
  }
  CryptoPolicy p;
  for (int f : proto.forbidden()) {
    if (f == v1::ALGORITHM_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          "crypto policy: forbidden: ALGORITHM_UNSPECIFIED is not an "
          "algorithm");
    }
    p.forbidden_.insert(f);
  }
  for (const v1::PurposeRule& rule : proto.rule()) {
    const Purpose purpose = rule.purpose();
    const std::string pname = PurposeName(purpose);
    if (PurposeKind(purpose) == Kind::kNone) {
      return absl::InvalidArgumentError(
          absl::StrCat("crypto policy: rule with unspecified purpose"));
    }
    if (p.allowed_.count(purpose) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("crypto policy: duplicate rule for purpose ", pname));
    }
    std::set<int>& allowed = p.allowed_[purpose];
    if (rule.allow().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "crypto policy: rule for ", pname, " allows no algorithm"));
    }
    for (int a : rule.allow()) {
      const auto alg = static_cast<Algorithm>(a);
      const std::string aname = AlgorithmName(alg);
      if (AlgorithmKind(alg) == Kind::kNone) {
        return absl::InvalidArgumentError(
            absl::StrCat("crypto policy: ", pname, " allows ", aname,
                         ", which VirtEngine does not implement"));
      }
      if (p.forbidden_.count(a) != 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "crypto policy: ", pname, " allows forbidden algorithm ", aname));
      }
      if (AlgorithmKind(alg) != PurposeKind(purpose)) {
        return absl::InvalidArgumentError(
            absl::StrCat("crypto policy: ", aname,
                         " is the wrong kind of algorithm for ", pname));
      }
      if (alg == v1::HMAC_SHA1 && purpose != v1::MFA_TOTP) {
        return absl::InvalidArgumentError(absl::StrCat(
            "crypto policy: HMAC_SHA1 is allowed only for MFA_TOTP, not ",
            pname));
      }
      if (!allowed.insert(a).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("crypto policy: ", pname, " lists ", aname, " twice"));
      }
    }
  }
  if (proto.min_hmac_key_bytes() < 16) {
    return absl::InvalidArgumentError(
        "crypto policy: min_hmac_key_bytes must be at least 16");
  }
  if (proto.min_hkdf_ikm_bytes() < 16) {
    return absl::InvalidArgumentError(
        "crypto policy: min_hkdf_ikm_bytes must be at least 16");
  }
  if (proto.argon2id().min_ops_limit() < crypto_pwhash_OPSLIMIT_MIN ||
      proto.argon2id().min_ops_limit() < 2) {
    return absl::InvalidArgumentError(
        "crypto policy: argon2id.min_ops_limit must be at least 2");
  }
  if (proto.argon2id().min_mem_limit_bytes() < uint64_t{8} * 1024 * 1024) {
    return absl::InvalidArgumentError(
        "crypto policy: argon2id.min_mem_limit_bytes must be at least 8 MiB");
  }
  p.min_hmac_key_bytes_ = proto.min_hmac_key_bytes();
  p.min_hkdf_ikm_bytes_ = proto.min_hkdf_ikm_bytes();
  p.argon2_min_ops_ = proto.argon2id().min_ops_limit();
  p.argon2_min_mem_ = proto.argon2id().min_mem_limit_bytes();
  p.sha256_hex_ = Sha256Hex(text);
  return p;
}

const CryptoPolicy& CryptoPolicy::Embedded() {
  static const CryptoPolicy* const policy = [] {
    absl::StatusOr<CryptoPolicy> p = Parse(internal::kEmbeddedPolicy);
    if (!p.ok()) {
      // A build that ships an invalid policy must not run at all.
      (void)std::fprintf(stderr, "fatal: embedded crypto policy: %s\n",
                         p.status().ToString().c_str());
      std::abort();
    }
    return new CryptoPolicy(*std::move(p));
  }();
  return *policy;
}

absl::Status CryptoPolicy::Check(Purpose purpose, Algorithm algorithm) const {
  if (forbidden_.count(algorithm) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("crypto policy ", sha256_hex_.substr(0, 12), ": ",
                     AlgorithmName(algorithm), " is forbidden"));
  }
  auto it = allowed_.find(purpose);
  if (it == allowed_.end() || it->second.count(algorithm) == 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("crypto policy ", sha256_hex_.substr(0, 12), ": ",
                     AlgorithmName(algorithm), " is not allowed for ",
                     PurposeName(purpose)));
  }
  return absl::OkStatus();
}

namespace {
absl::Mutex g_policy_mu(absl::kConstInit);
// Null until first use or install; then the active policy.
std::shared_ptr<const CryptoPolicy>* g_policy ABSL_GUARDED_BY(g_policy_mu) =
    nullptr;

std::shared_ptr<const CryptoPolicy>& PolicySlot()
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_policy_mu) {
  if (g_policy == nullptr) {
    g_policy = new std::shared_ptr<const CryptoPolicy>(
        std::make_shared<const CryptoPolicy>(CryptoPolicy::Embedded()));
  }
  return *g_policy;
}
}  // namespace

std::shared_ptr<const CryptoPolicy> ActivePolicy() {
  {
    absl::ReaderMutexLock lock(&g_policy_mu);
    if (g_policy != nullptr) return *g_policy;
  }
  absl::MutexLock lock(&g_policy_mu);
  return PolicySlot();
}

void InstallPolicy(const CryptoPolicy& policy) {
  auto p = std::make_shared<const CryptoPolicy>(policy);
  absl::MutexLock lock(&g_policy_mu);
  PolicySlot() = std::move(p);
}

absl::Status CheckAllowed(Purpose purpose, Algorithm algorithm) {
  return ActivePolicy()->Check(purpose, algorithm);
}

}  // namespace virtengine::crypto
