#include "src/modules/cluster/cluster.h"

#include <arpa/inet.h>

#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "security/validate/address.h"
#include "security/validate/number.h"
#include "src/common/encoding/big_endian.h"
#include "src/modules/audit/audit.h"

namespace virtengine::cluster {
namespace {

constexpr char kOperatorPrefix[] = "op/";
constexpr char kMemberPrefix[] = "m/";
constexpr size_t kMaxAddressBytes = 255;
constexpr char kGenesisActor[] = "genesis";

std::string MemberKey(uint64_t id) {
  return absl::StrCat(kMemberPrefix, encoding::BigEndian64(id));
}

absl::Status Invalid(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(field), ": ", std::string(what)));
}

// "host:port", port 1..65535, host non-empty printable ASCII.
absl::Status ValidateHostPort(std::string_view field, std::string_view v) {
  const size_t colon = v.rfind(':');
  if (v.size() > kMaxAddressBytes || colon == std::string_view::npos ||
      colon == 0) {
    return Invalid(field, absl::StrCat("want host:port, got \"",
                                       std::string(v.substr(0, 64)), "\""));
  }
  for (char c : v) {
    if (c <= ' ' || c > '~') return Invalid(field, "non-printable character");
  }
  return validate::ParseUint64(field, v.substr(colon + 1), 1, 65535).status();
}

absl::StatusOr<std::optional<v1::Member>> GetMember(
    const ledger::PrefixView& store, uint64_t id) {
  absl::StatusOr<std::optional<std::string>> v = store.Get(MemberKey(id));
  if (!v.ok()) return v.status();
  if (!v->has_value()) return std::optional<v1::Member>();
  v1::Member m;
  if (!m.ParseFromString(**v)) {
    return absl::DataLossError(absl::StrCat("cluster: corrupt member ", id));
  }
  return std::optional<v1::Member>(std::move(m));
}

void PutMember(ledger::PrefixView& store, const v1::Member& m) {
  store.Put(MemberKey(m.raft_id()), m.SerializeAsString());
}

// Members (and operators) that could not coexist: duplicate ids, raft
// addresses or keys; more than kMaxMembers; no voter.
absl::Status CheckSet(const std::vector<v1::Member>& members) {
  if (members.size() > kMaxMembers) {
    return absl::FailedPreconditionError(
        absl::StrCat("cluster: ", members.size(),
                     " members, over the limit of ", kMaxMembers));
  }
  std::set<uint64_t> ids;
  std::set<std::string> addrs;
  std::set<std::string> keys;
  bool voter = false;
  for (const v1::Member& m : members) {
    if (!ids.insert(m.raft_id()).second) {
      return absl::AlreadyExistsError(absl::StrCat(
          "cluster: raft id ", m.raft_id(), " is already a member"));
    }
    if (!addrs.insert(m.raft_address()).second) {
      return absl::AlreadyExistsError(absl::StrCat("cluster: raft address ",
                                                   m.raft_address(),
                                                   " is already a member's"));
    }
    if (!keys.insert(m.node_public_key()).second) {
      return absl::AlreadyExistsError(
          "cluster: node public key is already a member's");
    }
    voter = voter || m.voter();
  }
  if (!voter) {
    return absl::FailedPreconditionError(
        "cluster: the cluster would have no voter");
  }
  return absl::OkStatus();
}

absl::Status Audit(ledger::Context& ctx, std::string_view kind,
                   const v1::Member& m) {
  audit::Details details;
  details["raft_id"] = absl::StrCat(m.raft_id());
  details["raft_address"] = m.raft_address();
  if (!m.grpc_address().empty()) details["grpc_address"] = m.grpc_address();
  details["voter"] = m.voter() ? "true" : "false";
  if (!m.measurement_name().empty()) {
    details["measurement"] =
        absl::StrCat(m.measurement_name(), " ", m.measurement_version());
  }
  return audit::RecordMessage(ctx, kind, absl::StrCat("node ", m.raft_id()), m,
                              details);
}

class OperatorFacts final : public ledger::GateFacts {
 public:
  explicit OperatorFacts(const ledger::PrefixView& store) : store_(store) {}
  absl::StatusOr<bool> HasRole(std::string_view address,
                               std::string_view role) const override {
    if (role != kOperatorRole) return false;
    absl::StatusOr<std::optional<std::string>> v =
        store_.Get(absl::StrCat(kOperatorPrefix, std::string(address)));
    if (!v.ok()) return v.status();
    return v->has_value();
  }

 private:
  const ledger::PrefixView& store_;
};

}  // namespace

absl::Status ValidateMember(std::string_view field, const v1::Member& m) {
  const std::string f(field);
  if (m.raft_id() == 0) return Invalid(f + ".raft_id", "must be > 0");
  const std::string& ra = m.raft_address();
  const size_t colon = ra.rfind(':');
  in_addr addr{};
  char canonical[INET_ADDRSTRLEN] = {};
  if (ra.size() > 21 || colon == std::string::npos ||
      inet_pton(AF_INET, ra.substr(0, colon).c_str(), &addr) != 1 ||
      inet_ntop(AF_INET, &addr, canonical, sizeof canonical) == nullptr ||
      ra.substr(0, colon) != canonical || addr.s_addr == htonl(INADDR_ANY)) {
    return Invalid(f + ".raft_address",
                   absl::StrCat("want a canonical IPv4 a.b.c.d:port, got \"",
                                ra.substr(0, 64), "\""));
  }
  if (absl::Status s = validate::ParseUint64(f + ".raft_address port",
                                             ra.substr(colon + 1), 1, 65535)
                           .status();
      !s.ok()) {
    return s;
  }
  if (!m.grpc_address().empty()) {
    if (absl::Status s =
            ValidateHostPort(f + ".grpc_address", m.grpc_address());
        !s.ok()) {
      return s;
    }
  }
  if (m.node_public_key().size() != 32) {
    return Invalid(f + ".node_public_key", "must be 32 bytes (Ed25519)");
  }
  if (m.added_by().size() > kMaxAddressBytes) {
    return Invalid(f + ".added_by", "too long");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<attestation::VerifiedEvidence>>
VerifyAddNodeAttestation(const v1::MsgAddNode& msg,
                         const AttestationPolicy& policy) {
  using Result = std::optional<attestation::VerifiedEvidence>;
  if (!msg.has_attestation()) {
    if (policy.required) {
      return absl::PermissionDeniedError(
          "cluster: attestation required: the node presents no TPM quote "
          "(the chain's attestation_required parameter is set)");
    }
    return Result();
  }
  const auto& ev = msg.attestation();
  if (ev.node_public_key() != msg.node_public_key()) {
    return absl::InvalidArgumentError(
        "cluster: attestation: the quote is bound to another node key");
  }
  absl::StatusOr<attestation::VerifiedEvidence> v = attestation::VerifyEvidence(
      ev, attestation::kPurposeJoin, crypto::AsBytes(ev.nonce()),
      policy.allowlist);
  if (!v.ok()) {
    return absl::Status(
        v.status().code(),
        absl::StrCat("cluster: attestation: ", v.status().message()));
  }
  return Result(*std::move(v));
}

absl::StatusOr<std::vector<v1::Member>> ReadMembers(
    const ledger::PrefixView& store) {
  std::vector<v1::Member> out;
  absl::Status err;
  absl::Status s =
      store.Scan(kMemberPrefix, [&](std::string_view k, std::string_view v) {
        v1::Member m;
        if (!m.ParseFromArray(v.data(), static_cast<int>(v.size())) ||
            k.size() != sizeof(kMemberPrefix) - 1 + 8 ||
            k.substr(sizeof(kMemberPrefix) - 1) !=
                encoding::BigEndian64(m.raft_id())) {
          err = absl::DataLossError("cluster: corrupt member record");
          return false;
        }
        out.push_back(std::move(m));
        return true;
      });
  if (!s.ok()) return s;
  if (!err.ok()) return err;
  return out;
}

std::vector<ledger::MessageSpec> ClusterModule::messages() const {
  ledger::GateRequirement op;
  op.role = std::string(kOperatorRole);
  return {{std::string(kMsgAddNodeType), op},
          {std::string(kMsgSetNodeRoleType), op},
          {std::string(kMsgRemoveNodeType), op}};
}

namespace {

absl::Status AddNode(ledger::Context& ctx, const v1::MsgAddNode& m) {
  absl::StatusOr<std::vector<v1::Member>> members = ReadMembers(ctx.store());
  if (!members.ok()) return members.status();
  v1::Member member;
  member.set_raft_id(m.raft_id());
  member.set_raft_address(m.raft_address());
  member.set_grpc_address(m.grpc_address());
  member.set_node_public_key(m.node_public_key());
  member.set_voter(m.voter());
  member.set_added_height(ctx.height());
  member.set_added_by(ctx.signer());
  if (absl::Status s = ValidateMember("MsgAddNode", member); !s.ok()) return s;
  absl::StatusOr<AttestationPolicyKeeper*> pk =
      ctx.GetKeeper<AttestationPolicyKeeper>(kPolicyModule);
  if (!pk.ok()) return pk.status();
  absl::StatusOr<AttestationPolicy> policy = (*pk)->Policy();
  if (!policy.ok()) return policy.status();
  absl::StatusOr<std::optional<attestation::VerifiedEvidence>> verified =
      VerifyAddNodeAttestation(m, *policy);
  if (!verified.ok()) return verified.status();
  if (verified->has_value()) {
    const attestation::VerifiedEvidence& v = **verified;
    member.set_measurement_name(v.quote.measurement_name);
    member.set_measurement_version(v.quote.measurement_version);
    member.set_ak_name_sha256(v.ak_name_digest.data(), v.ak_name_digest.size());
  }
  members->push_back(member);
  if (absl::Status s = CheckSet(*members); !s.ok()) return s;
  PutMember(ctx.store(), member);
  v1::EventNodeAdded ev;
  *ev.mutable_member() = member;
  ctx.events().Emit(ev);
  return Audit(ctx, "cluster.node_added", member);
}

// Sets the role of (voter set) or removes (voter unset) member `id`.
absl::Status ChangeNode(ledger::Context& ctx, uint64_t id,
                        std::optional<bool> voter) {
  absl::StatusOr<std::vector<v1::Member>> members = ReadMembers(ctx.store());
  if (!members.ok()) return members.status();
  absl::StatusOr<std::optional<v1::Member>> cur = GetMember(ctx.store(), id);
  if (!cur.ok()) return cur.status();
  if (!cur->has_value()) {
    return absl::NotFoundError(
        absl::StrCat("cluster: no member with raft id ", id));
  }
  std::vector<v1::Member> next;
  for (v1::Member& m : *members) {
    if (m.raft_id() != id) {
      next.push_back(std::move(m));
    } else if (voter.has_value()) {
      m.set_voter(*voter);
      next.push_back(std::move(m));
    }
  }
  if (absl::Status s = CheckSet(next); !s.ok()) return s;
  v1::Member changed = **cur;
  if (voter.has_value()) {
    changed.set_voter(*voter);
    PutMember(ctx.store(), changed);
    v1::EventNodeRoleSet ev;
    ev.set_raft_id(id);
    ev.set_voter(*voter);
    ctx.events().Emit(ev);
    return Audit(ctx, "cluster.node_role_set", changed);
  }
  ctx.store().Delete(MemberKey(id));
  v1::EventNodeRemoved ev;
  ev.set_raft_id(id);
  ev.set_removed_by(ctx.signer());
  ctx.events().Emit(ev);
  return Audit(ctx, "cluster.node_removed", changed);
}

absl::StatusOr<std::vector<uint64_t>> Evict(ledger::Context& ctx,
                                            std::string_view name,
                                            std::string_view version) {
  absl::StatusOr<std::vector<v1::Member>> members = ReadMembers(ctx.store());
  if (!members.ok()) return members.status();
  std::vector<v1::Member> keep;
  std::vector<v1::Member> evict;
  for (v1::Member& m : *members) {
    const bool match =
        m.measurement_name() == name && m.measurement_version() == version;
    (match ? evict : keep).push_back(std::move(m));
  }
  if (evict.empty()) return std::vector<uint64_t>{};
  if (absl::Status s = CheckSet(keep); !s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cluster: evicting the ", evict.size(),
                     " node(s) of measurement ", std::string(name), " ",
                     std::string(version), " refused: ", s.message()));
  }
  std::vector<uint64_t> ids;
  for (const v1::Member& m : evict) {
    ctx.store().Delete(MemberKey(m.raft_id()));
    v1::EventNodeRemoved ev;
    ev.set_raft_id(m.raft_id());
    ev.set_removed_by(absl::StrCat("evicted: measurement retired (",
                                   std::string(name), " ", std::string(version),
                                   ")"));
    ctx.events().Emit(ev);
    if (absl::Status s = Audit(ctx, "cluster.node_evicted", m); !s.ok()) {
      return s;
    }
    ids.push_back(m.raft_id());
  }
  return ids;
}

class Keeper final : public ClusterKeeper {
 public:
  explicit Keeper(ledger::Context& ctx) : ctx_(ctx) {}
  absl::Status AddNode(const v1::MsgAddNode& msg) override {
    return cluster::AddNode(ctx_, msg);
  }
  absl::Status RemoveNode(uint64_t raft_id) override {
    return ChangeNode(ctx_, raft_id, std::nullopt);
  }
  absl::StatusOr<std::vector<uint64_t>> EvictMeasurement(
      std::string_view name, std::string_view version) override {
    return Evict(ctx_, name, version);
  }

 private:
  ledger::Context& ctx_;
};

}  // namespace

absl::Status ClusterModule::Handle(ledger::Context& ctx,
                                   const google::protobuf::Any& msg) const {
  const std::string& type = msg.type_url();  // the registry routed it here
  if (type == kMsgAddNodeType) {
    v1::MsgAddNode m;
    if (absl::Status s =
            ledger::ParseStrict("cluster: MsgAddNode", msg.value(), &m);
        !s.ok()) {
      return s;
    }
    return AddNode(ctx, m);
  }
  if (type == kMsgSetNodeRoleType) {
    v1::MsgSetNodeRole m;
    if (absl::Status s =
            ledger::ParseStrict("cluster: MsgSetNodeRole", msg.value(), &m);
        !s.ok()) {
      return s;
    }
    return ChangeNode(ctx, m.raft_id(), m.voter());
  }
  if (type == kMsgRemoveNodeType) {
    v1::MsgRemoveNode m;
    if (absl::Status s =
            ledger::ParseStrict("cluster: MsgRemoveNode", msg.value(), &m);
        !s.ok()) {
      return s;
    }
    return ChangeNode(ctx, m.raft_id(), std::nullopt);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("cluster: unknown message type ", msg.type_url()));
}

std::unique_ptr<ledger::KeeperInterface> ClusterModule::NewKeeper(
    ledger::Context& own) const {
  return std::make_unique<Keeper>(own);
}

absl::StatusOr<std::string> ClusterModule::Query(
    const ledger::QueryContext& ctx, std::string_view path,
    std::string_view request) const {
  if (path != "members") {
    return absl::NotFoundError(absl::StrCat("cluster: unknown query path \"",
                                            std::string(path), "\""));
  }
  v1::QueryMembersRequest req;
  if (absl::Status s =
          ledger::ParseStrict("cluster: QueryMembersRequest", request, &req);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> g = ExportGenesis(ctx);
  if (!g.ok()) return g.status();
  v1::GenesisState state;
  if (!state.ParseFromString(*g)) return absl::InternalError("cluster: export");
  v1::QueryMembersResponse resp;
  *resp.mutable_members() = state.members();
  *resp.mutable_operators() = state.operators();
  return resp.SerializeAsString();
}

absl::Status ClusterModule::InitGenesis(ledger::Context& ctx,
                                        std::string_view genesis) const {
  v1::GenesisState g;
  if (absl::Status s = ledger::ParseStrict("cluster: genesis", genesis, &g);
      !s.ok()) {
    return s;
  }
  if (static_cast<size_t>(g.operators_size()) > kMaxOperators) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cluster genesis: more than ", kMaxOperators, " operators"));
  }
  std::set<std::string> ops;
  for (int i = 0; i < g.operators_size(); ++i) {
    const std::string field =
        absl::StrCat("cluster genesis: operators[", i, "]");
    if (auto a = validate::ValidateAddress(field, g.operators(i)); !a.ok()) {
      return a.status();
    }
    if (!ops.insert(g.operators(i)).second) {
      return Invalid(field, "duplicate operator");
    }
  }
  std::vector<v1::Member> members;
  for (int i = 0; i < g.members_size(); ++i) {
    v1::Member m = g.members(i);
    if (absl::Status s = ValidateMember(
            absl::StrCat("cluster genesis: members[", i, "]"), m);
        !s.ok()) {
      return s;
    }
    m.set_added_height(0);
    if (m.added_by().empty()) m.set_added_by(kGenesisActor);
    members.push_back(std::move(m));
  }
  if (absl::Status s = CheckSet(members); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cluster genesis: ", s.message()));
  }
  for (const std::string& op : ops) {
    ctx.store().Put(absl::StrCat(kOperatorPrefix, op), "");
  }
  for (const v1::Member& m : members) PutMember(ctx.store(), m);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ClusterModule::ExportGenesis(
    const ledger::QueryContext& ctx) const {
  v1::GenesisState g;
  absl::Status s = ctx.store().Scan(
      kOperatorPrefix, [&](std::string_view k, std::string_view) {
        g.add_operators(std::string(k.substr(sizeof(kOperatorPrefix) - 1)));
        return true;
      });
  if (!s.ok()) return s;
  absl::StatusOr<std::vector<v1::Member>> members = ReadMembers(ctx.store());
  if (!members.ok()) return members.status();
  for (v1::Member& m : *members) *g.add_members() = std::move(m);
  return g.SerializeAsString();
}

absl::Status ClusterModule::CheckInvariants(
    const ledger::QueryContext& ctx) const {
  absl::StatusOr<std::vector<v1::Member>> members = ReadMembers(ctx.store());
  if (!members.ok()) return members.status();
  for (size_t i = 0; i < members->size(); ++i) {
    if (absl::Status s =
            ValidateMember(absl::StrCat("cluster: member ", i), (*members)[i]);
        !s.ok()) {
      return absl::InternalError(
          absl::StrCat("cluster: invariant broken: ", s.message()));
    }
  }
  if (absl::Status s = CheckSet(*members); !s.ok()) {
    return absl::InternalError(
        absl::StrCat("cluster: invariant broken: ", s.message()));
  }
  return absl::OkStatus();
}

std::unique_ptr<ledger::GateFacts> ClusterModule::NewGateFacts(
    const ledger::PrefixView& own) const {
  return std::make_unique<OperatorFacts>(own);
}

}  // namespace virtengine::cluster
