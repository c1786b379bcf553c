// The cluster module: the nodes that keep the ledger, recorded in the
// ledger itself (docs/ledger/cluster.md). Operators (accounts listed at
// genesis, gate role "operator") add, promote/demote and remove nodes; the
// leader's node process reconciles the Raft configuration with these
// records, and every node accepts a block only from a member's key.
//
// State (under "cluster/"):
//   op/<address>          -> ""            an operator
//   m/<u64be raft_id>     -> Member bytes  a member
#ifndef VIRTENGINE_SRC_MODULES_CLUSTER_CLUSTER_H_
#define VIRTENGINE_SRC_MODULES_CLUSTER_CLUSTER_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/attest/verifier.h"
#include "src/api/cluster/v1/cluster.pb.h"
#include "src/attest/evidence.h"
#include "src/ledger/module/module.h"

namespace virtengine::cluster {

inline constexpr std::string_view kModuleName = "cluster";
inline constexpr std::string_view kOperatorRole = "operator";
inline constexpr size_t kMaxMembers = 16;
inline constexpr size_t kMaxOperators = 64;
inline constexpr std::string_view kMsgAddNodeType =
    "/virtengine.cluster.v1.MsgAddNode";
inline constexpr std::string_view kMsgSetNodeRoleType =
    "/virtengine.cluster.v1.MsgSetNodeRole";
inline constexpr std::string_view kMsgRemoveNodeType =
    "/virtengine.cluster.v1.MsgRemoveNode";

// INVALID_ARGUMENT naming the field: raft id 0, a raft address that is not
// a canonical "a.b.c.d:port" (port 1..65535), a malformed gRPC address, a
// public key that is not 32 bytes.
absl::Status ValidateMember(std::string_view field, const v1::Member& m);

// The members in raft id order, read from the module's own prefix.
absl::StatusOr<std::vector<v1::Member>> ReadMembers(
    const ledger::PrefixView& store);

// What a joining node must prove: owned by the governance module (the
// measurement allowlist and the attestation_required parameter), which
// offers it through this keeper interface (ctx.GetKeeper from "gov").
struct AttestationPolicy {
  bool required = false;
  // Every approved measurement, retired ones flagged (so that a quote of a
  // retired one is refused as such).
  std::vector<attest::Measurement> allowlist;
};
inline constexpr std::string_view kPolicyModule = "gov";
class AttestationPolicyKeeper : public ledger::KeeperInterface {
 public:
  virtual absl::StatusOr<AttestationPolicy> Policy() = 0;
};

// The attestation of `msg` against `policy`: none (nullopt) when the
// message carries none and the policy does not require one; otherwise the
// verified evidence (purpose "join", bound to msg.node_public_key, quoting
// an approved measurement in force). Errors name the cause:
//   PERMISSION_DENIED "cluster: attestation required: ..." (none presented),
//   "cluster: attestation: <verifier reason>" with the verifier's code.
// The nonce's freshness (a challenge the leader issued, unexpired, unused)
// is checked by the leader when it admits the tx; execution on every node
// re-verifies the rest.
absl::StatusOr<std::optional<attestation::VerifiedEvidence>>
VerifyAddNodeAttestation(const v1::MsgAddNode& msg,
                         const AttestationPolicy& policy);

// What other modules (governance) call: the same changes as the messages,
// with the same checks, recorded as made by the caller's signer.
// (ctx.GetKeeper<cluster::ClusterKeeper>("cluster"))
class ClusterKeeper : public ledger::KeeperInterface {
 public:
  virtual absl::Status AddNode(const v1::MsgAddNode& msg) = 0;
  virtual absl::Status RemoveNode(uint64_t raft_id) = 0;
  // Eviction policy for a retired measurement: removes every member
  // admitted under (name, version); FAILED_PRECONDITION (nothing removed)
  // when no voter would remain. Returns the evicted raft ids.
  virtual absl::StatusOr<std::vector<uint64_t>> EvictMeasurement(
      std::string_view name, std::string_view version) = 0;
};

class ClusterModule final : public ledger::Module {
 public:
  std::string_view name() const override { return kModuleName; }
  std::vector<ledger::MessageSpec> messages() const override;
  std::vector<std::string> keeper_dependencies() const override {
    return {"audit", std::string(kPolicyModule)};
  }
  absl::Status Handle(ledger::Context& ctx,
                      const google::protobuf::Any& msg) const override;
  // "members": QueryMembersRequest -> QueryMembersResponse.
  absl::StatusOr<std::string> Query(const ledger::QueryContext& ctx,
                                    std::string_view path,
                                    std::string_view request) const override;
  absl::Status InitGenesis(ledger::Context& ctx,
                           std::string_view genesis) const override;
  absl::StatusOr<std::string> ExportGenesis(
      const ledger::QueryContext& ctx) const override;
  // At least one voter; ids, raft addresses and keys unique; every record
  // valid and stored under its own id.
  absl::Status CheckInvariants(const ledger::QueryContext& ctx) const override;
  // The "operator" role.
  std::vector<ledger::GateFact> provided_gate_facts() const override {
    return {ledger::GateFact::kRole};
  }
  std::unique_ptr<ledger::GateFacts> NewGateFacts(
      const ledger::PrefixView& own) const override;
  std::unique_ptr<ledger::KeeperInterface> NewKeeper(
      ledger::Context& own) const override;
};

}  // namespace virtengine::cluster

#endif  // VIRTENGINE_SRC_MODULES_CLUSTER_CLUSTER_H_
