// The gate: what each message type needs from its signer (VEID tier or
// score, an MFA authorization session, a role), evaluated in the pipeline
// after fees and before execution (docs/ledger/modules.md, "The gate").
//
// The facts come from the modules that own them (veid, mfa, roles) through
// the narrow GateFacts interface. A requirement beyond "none" whose facts
// provider is not registered is refused, never passed.
#ifndef VIRTENGINE_SRC_LEDGER_MODULE_GATE_H_
#define VIRTENGINE_SRC_LEDGER_MODULE_GATE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace virtengine::ledger {

// VEID verification tiers (DOMAIN.md section 1), in increasing order. The
// number each is known by is TierName: 0, 0.5 (pending), 1, 2, 3.
enum class VeidTier : uint8_t {
  kUnverified = 0,
  kPending = 1,
  kBasic = 2,
  kStandard = 3,
  kPremium = 4,
};
std::string_view TierName(VeidTier tier);

// Sensitive-action classes of MFA authorization sessions (DOMAIN.md
// section 2), in increasing order; a session of a class covers the classes
// below it.
enum class MfaClass : uint8_t {
  kNone = 0,
  kLow = 1,
  kMedium = 2,
  kHigh = 3,
  kCritical = 4,
};
std::string_view MfaClassName(MfaClass mfa);

// What a message type needs. The default is "none": anybody who paid the fee.
struct GateRequirement {
  VeidTier min_tier = VeidTier::kUnverified;
  uint32_t min_score = 0;          // 0..100; 0 = no score needed
  MfaClass mfa = MfaClass::kNone;  // kNone = no session needed
  std::string role;                // empty = no role needed

  bool none() const;
  // "none", or e.g. "VEID tier ≥ 2, VEID score ≥ 70, MFA high, role admin".
  std::string Describe() const;
};

// INVALID_ARGUMENT for a score above 100 or a malformed role name
// ([a-z][a-z0-9_]{0,63}).
absl::Status ValidateRequirement(std::string_view field,
                                 const GateRequirement& requirement);

enum class GateFact : uint8_t { kVeid = 0, kMfa = 1, kRole = 2 };
std::string_view GateFactName(GateFact fact);

struct VeidStanding {
  VeidTier tier = VeidTier::kUnverified;
  uint32_t score = 0;  // 0..100
};

// The signer's authorization session for a message type, as the MFA
// module sees it.
struct MfaSession {
  bool present = false;
  MfaClass covers = MfaClass::kNone;
  int64_t expires_unix_nano = 0;  // expired when <= the block time
};

// Facts about accounts, read from the state being executed. A module that
// owns facts implements the methods for the facts it provides
// (Module::provided_gate_facts); the others keep the UNIMPLEMENTED default.
class GateFacts {
 public:
  virtual ~GateFacts() = default;
  virtual absl::StatusOr<VeidStanding> Veid(std::string_view address) const;
  virtual absl::StatusOr<MfaSession> Mfa(std::string_view address,
                                         std::string_view type_url) const;
  virtual absl::StatusOr<bool> HasRole(std::string_view address,
                                       std::string_view role) const;
};

// The registered providers, bound to one state; null = none registered.
struct GateProviders {
  const GateFacts* veid = nullptr;
  const GateFacts* mfa = nullptr;
  const GateFacts* roles = nullptr;
};

// OK when `signer` meets `requirement` for `type_url` at `block_time`.
// PERMISSION_DENIED otherwise, naming the first unmet part, e.g.
//   "gate: /virtengine.x.v1.MsgY needs VEID tier ≥ 2; signer has tier 0"
// Checks run in the order tier, score, MFA session, role. Errors of a
// provider (e.g. DATA_LOSS) are returned as they are, prefixed "gate: ".
absl::Status EvaluateGate(std::string_view type_url,
                          const GateRequirement& requirement,
                          std::string_view signer, int64_t block_time_unix_nano,
                          const GateProviders& facts);

}  // namespace virtengine::ledger

#endif  // VIRTENGINE_SRC_LEDGER_MODULE_GATE_H_
