// The profile module: small per-account key/value settings. Every account
// may update its own (DOMAIN.md: "profile updates: everyone"), so the gate
// requirement of MsgSetProfile is "none".
//
// State (under the module's prefix "profile/"):
//   v/<address>/<key>  -> value (UTF-8, at most kMaxValueBytes)
//
// Limits: key [a-z0-9_.-]{1,64}; value valid UTF-8 without control
// characters, at most 256 bytes (empty allowed); at most 32 keys per
// account (overwriting an existing key is always allowed).
#ifndef VIRTENGINE_SRC_MODULES_PROFILE_PROFILE_H_
#define VIRTENGINE_SRC_MODULES_PROFILE_PROFILE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/api/profile/v1/profile.pb.h"
#include "src/ledger/module/module.h"

namespace virtengine::profile {

inline constexpr std::string_view kModuleName = "profile";
inline constexpr std::string_view kMsgSetProfileType =
    "/virtengine.profile.v1.MsgSetProfile";
inline constexpr size_t kMaxKeyBytes = 64;
inline constexpr size_t kMaxValueBytes = 256;
inline constexpr size_t kMaxKeysPerAccount = 32;

// INVALID_ARGUMENT "<field>: ..." unless `key` matches [a-z0-9_.-]{1,64}.
absl::Status ValidateKey(std::string_view field, std::string_view key);
// INVALID_ARGUMENT unless `value` is UTF-8 without control characters and at
// most kMaxValueBytes long.
absl::Status ValidateValue(std::string_view field, std::string_view value);

class ProfileModule final : public ledger::Module {
 public:
  std::string_view name() const override { return kModuleName; }
  // MsgSetProfile, gate requirement "none".
  std::vector<ledger::MessageSpec> messages() const override;
  // MsgSetProfile: address must be the signer (PERMISSION_DENIED); key and
  // value validated (INVALID_ARGUMENT); a 33rd key is FAILED_PRECONDITION.
  // Emits EventProfileSet.
  absl::Status Handle(ledger::Context& ctx,
                      const google::protobuf::Any& msg) const override;
  // "get": QueryGetRequest -> QueryGetResponse (found = false and an empty
  // value when the key is not set).
  absl::StatusOr<std::string> Query(const ledger::QueryContext& ctx,
                                    std::string_view path,
                                    std::string_view request) const override;
  // GenesisState: entries validated like messages, no duplicate
  // (address, key), at most 32 keys per account. Export is in key order.
  absl::Status InitGenesis(ledger::Context& ctx,
                           std::string_view genesis) const override;
  absl::StatusOr<std::string> ExportGenesis(
      const ledger::QueryContext& ctx) const override;
  // Every stored entry has a valid address, key and value, and no account
  // holds more than 32 keys. INTERNAL names the offending entry.
  absl::Status CheckInvariants(const ledger::QueryContext& ctx) const override;
};

}  // namespace virtengine::profile

#endif  // VIRTENGINE_SRC_MODULES_PROFILE_PROFILE_H_
