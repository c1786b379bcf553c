// The governance module (docs/ledger/gov.md): members (the chain's
// operators, by account address) propose and vote; a proposal that reaches
// the threshold (default: a majority of members) is executed at once:
// add or retire an approved image measurement, set a parameter, add or
// remove a member, add or remove a cluster node (through the cluster
// module's keeper). Proposals expire after the voting period.
//
// State (under "gov/"):
//   member/<address>              -> ""
//   params                        -> Params
//   meas/<name> 0x00 <version>    -> Measurement
//   prop/<u64be id>               -> Proposal
//   vote/<u64be id>/<address>     -> "y" | "n"
//   next_id                       -> u64be
#ifndef VIRTENGINE_SRC_MODULES_GOV_GOV_H_
#define VIRTENGINE_SRC_MODULES_GOV_GOV_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/attest/verifier.h"
#include "src/api/gov/v1/gov.pb.h"
#include "src/ledger/module/module.h"

namespace virtengine::gov {

inline constexpr std::string_view kModuleName = "gov";
inline constexpr std::string_view kMsgSubmitProposalType =
    "/virtengine.gov.v1.MsgSubmitProposal";
inline constexpr std::string_view kMsgVoteType = "/virtengine.gov.v1.MsgVote";
inline constexpr uint32_t kDefaultThresholdBps = 5001;
inline constexpr uint64_t kDefaultVotingPeriod = 10000;
inline constexpr size_t kMaxMembers = 64;
inline constexpr size_t kMaxMeasurements = 1024;

// INVALID_ARGUMENT naming the field: name or version malformed, no PCR
// value, a PCR outside 0..23 or repeated or out of order, a value that is
// not 32 bytes.
absl::Status ValidateMeasurement(std::string_view field,
                                 const v1::Measurement& m);
// Fills unset parameters with their defaults; INVALID_ARGUMENT when one is
// out of range.
absl::StatusOr<v1::Params> NormalizeParams(v1::Params p);

// The measurements in force (not retired) read from the module's prefix.
absl::StatusOr<std::vector<v1::Measurement>> ActiveMeasurements(
    const ledger::PrefixView& store);

// The verifier's form of an approved measurement (retired ones flagged).
absl::StatusOr<attest::Measurement> ToAllowlistEntry(const v1::Measurement& m);

class GovModule final : public ledger::Module {
 public:
  std::string_view name() const override { return kModuleName; }
  std::vector<ledger::MessageSpec> messages() const override;
  std::vector<std::string> keeper_dependencies() const override {
    return {"audit", "cluster"};
  }
  absl::Status Handle(ledger::Context& ctx,
                      const google::protobuf::Any& msg) const override;
  // "proposals", "measurements", "params" (see gov.proto).
  absl::StatusOr<std::string> Query(const ledger::QueryContext& ctx,
                                    std::string_view path,
                                    std::string_view request) const override;
  absl::Status InitGenesis(ledger::Context& ctx,
                           std::string_view genesis) const override;
  absl::StatusOr<std::string> ExportGenesis(
      const ledger::QueryContext& ctx) const override;
  // At least one member; parameters in range; every measurement and
  // proposal valid and stored under its own key; next_id beyond every id.
  absl::Status CheckInvariants(const ledger::QueryContext& ctx) const override;
  // cluster::AttestationPolicyKeeper: the allowlist and whether the chain
  // requires attestation.
  std::unique_ptr<ledger::KeeperInterface> NewKeeper(
      ledger::Context& own) const override;
};

}  // namespace virtengine::gov

#endif  // VIRTENGINE_SRC_MODULES_GOV_GOV_H_
