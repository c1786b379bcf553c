#include "src/modules/gov/gov.h"

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "security/validate/address.h"
#include "security/validate/utf8.h"
#include "src/common/encoding/big_endian.h"
#include "src/modules/audit/audit.h"
#include "src/modules/cluster/cluster.h"

namespace virtengine::gov {
namespace {

constexpr char kMemberPrefix[] = "member/";
constexpr char kParamsKey[] = "params";
constexpr char kMeasPrefix[] = "meas/";
constexpr char kPropPrefix[] = "prop/";
constexpr char kVotePrefix[] = "vote/";
constexpr char kNextIdKey[] = "next_id";
constexpr size_t kMaxTitleBytes = 256;
constexpr uint32_t kMaxPcr = 23;
constexpr uint64_t kMaxVotingPeriod = 10'000'000;

absl::Status Invalid(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(field), ": ", std::string(what)));
}

bool NameOk(std::string_view s, bool upper_ok, std::string_view extra) {
  if (s.empty() || s.size() > 64) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       (upper_ok && c >= 'A' && c <= 'Z');
    if (!alnum && (i == 0 || extra.find(c) == std::string_view::npos)) {
      return false;
    }
  }
  return true;
}

std::string MeasKey(std::string_view name, std::string_view version) {
  return absl::StrCat(kMeasPrefix, std::string(name), std::string(1, '\0'),
                      std::string(version));
}
std::string PropKey(uint64_t id) {
  return kPropPrefix + encoding::BigEndian64(id);
}
std::string VoteKey(uint64_t id, std::string_view voter) {
  return absl::StrCat(kVotePrefix, encoding::BigEndian64(id), "/",
                      std::string(voter));
}

template <typename M>
absl::StatusOr<std::optional<M>> GetProto(const ledger::PrefixView& store,
                                          const std::string& key,
                                          std::string_view what) {
  absl::StatusOr<std::optional<std::string>> v = store.Get(key);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return std::optional<M>();
  M m;
  if (!m.ParseFromString(**v)) {
    return absl::DataLossError(
        absl::StrCat("gov: corrupt ", std::string(what)));
  }
  return std::optional<M>(std::move(m));
}

absl::StatusOr<std::vector<std::string>> Members(
    const ledger::PrefixView& store) {
  std::vector<std::string> out;
  absl::Status s =
      store.Scan(kMemberPrefix, [&](std::string_view k, std::string_view) {
        out.emplace_back(k.substr(sizeof(kMemberPrefix) - 1));
        return true;
      });
  if (!s.ok()) return s;
  return out;
}

// The next proposal id (1 before the first).
absl::StatusOr<uint64_t> NextId(const ledger::PrefixView& store) {
  absl::StatusOr<std::optional<std::string>> v = store.Get(kNextIdKey);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return 1;
  if ((*v)->size() != 8) return absl::DataLossError("gov: corrupt next_id");
  return encoding::ReadBigEndian64(**v);
}

absl::StatusOr<bool> IsMember(const ledger::PrefixView& store,
                              std::string_view address) {
  absl::StatusOr<std::optional<std::string>> v =
      store.Get(absl::StrCat(kMemberPrefix, std::string(address)));
  if (!v.ok()) return v.status();
  return v->has_value();
}

absl::StatusOr<v1::Params> ReadParams(const ledger::PrefixView& store) {
  absl::StatusOr<std::optional<v1::Params>> p =
      GetProto<v1::Params>(store, kParamsKey, "params");
  if (!p.ok()) return p.status();
  return NormalizeParams(p->value_or(v1::Params()));
}

absl::StatusOr<std::vector<v1::Measurement>> AllMeasurements(
    const ledger::PrefixView& store) {
  std::vector<v1::Measurement> out;
  absl::Status err;
  absl::Status s =
      store.Scan(kMeasPrefix, [&](std::string_view, std::string_view v) {
        v1::Measurement m;
        if (!m.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
          err = absl::DataLossError("gov: corrupt measurement");
          return false;
        }
        out.push_back(std::move(m));
        return true;
      });
  if (!s.ok()) return s;
  if (!err.ok()) return err;
  return out;
}

absl::Status ValidateAddress(std::string_view field, std::string_view a) {
  return validate::ValidateAddress(field, a).status();
}

absl::Status ValidateAction(const v1::Action& a) {
  switch (a.kind_case()) {
    case v1::Action::kAddMeasurement:
      return ValidateMeasurement("action.add_measurement", a.add_measurement());
    case v1::Action::kRetireMeasurement:
      if (!NameOk(a.retire_measurement().name(), false, "._-") ||
          !NameOk(a.retire_measurement().version(), true, "._+-")) {
        return Invalid("action.retire_measurement", "bad name or version");
      }
      return absl::OkStatus();
    case v1::Action::kSetParam: {
      v1::Params p;
      const std::string& k = a.set_param().key();
      const std::string& v = a.set_param().value();
      uint64_t n = 0;
      if (k == "threshold_bps" || k == "voting_period_blocks") {
        if (v.empty() || v.size() > 19 ||
            v.find_first_not_of("0123456789") != std::string::npos) {
          return Invalid("action.set_param.value", "want a decimal number");
        }
        n = std::stoull(v);
        if (k == "threshold_bps") {
          if (n < 1 || n > 10000) {
            return Invalid("action.set_param.value", "threshold_bps: 1..10000");
          }
        } else if (n < 1 || n > kMaxVotingPeriod) {
          return Invalid("action.set_param.value",
                         "voting_period_blocks: 1..10000000");
        }
      } else if (k == "attestation_required") {
        if (v != "true" && v != "false") {
          return Invalid("action.set_param.value", "want true or false");
        }
      } else {
        return Invalid(
            "action.set_param.key",
            absl::StrCat("unknown parameter \"", k.substr(0, 64), "\""));
      }
      return absl::OkStatus();
    }
    case v1::Action::kAddMember:
      return ValidateAddress("action.add_member", a.add_member());
    case v1::Action::kRemoveMember:
      return ValidateAddress("action.remove_member", a.remove_member());
    case v1::Action::kAddNode:
      return a.add_node().raft_id() == 0
                 ? Invalid("action.add_node.raft_id", "must be > 0")
                 : absl::OkStatus();
    case v1::Action::kRemoveNode:
      return a.remove_node() == 0 ? Invalid("action.remove_node", "must be > 0")
                                  : absl::OkStatus();
    case v1::Action::KIND_NOT_SET:
      break;
  }
  return Invalid("action", "no action given");
}

std::string ActionName(const v1::Action& a) {
  switch (a.kind_case()) {
    case v1::Action::kAddMeasurement:
      return "add_measurement";
    case v1::Action::kRetireMeasurement:
      return "retire_measurement";
    case v1::Action::kSetParam:
      return "set_param";
    case v1::Action::kAddMember:
      return "add_member";
    case v1::Action::kRemoveMember:
      return "remove_member";
    case v1::Action::kAddNode:
      return "add_node";
    case v1::Action::kRemoveNode:
      return "remove_node";
    case v1::Action::KIND_NOT_SET:
      break;
  }
  return "none";
}

// Whether executing `p`'s action would succeed on the current state (so a
// passing proposal is marked FAILED instead of failing the vote).
absl::Status CheckExecutable(ledger::Context& ctx, const v1::Proposal& p) {
  const v1::Action& a = p.action();
  switch (a.kind_case()) {
    case v1::Action::kAddMeasurement: {
      absl::StatusOr<std::optional<v1::Measurement>> cur =
          GetProto<v1::Measurement>(ctx.store(),
                                    MeasKey(a.add_measurement().name(),
                                            a.add_measurement().version()),
                                    "measurement");
      if (!cur.ok()) return cur.status();
      if (cur->has_value()) {
        return absl::AlreadyExistsError("measurement already listed");
      }
      absl::StatusOr<std::vector<v1::Measurement>> all =
          AllMeasurements(ctx.store());
      if (!all.ok()) return all.status();
      if (all->size() >= kMaxMeasurements) {
        return absl::ResourceExhaustedError("measurement allowlist is full");
      }
      return absl::OkStatus();
    }
    case v1::Action::kRetireMeasurement: {
      absl::StatusOr<std::optional<v1::Measurement>> cur =
          GetProto<v1::Measurement>(ctx.store(),
                                    MeasKey(a.retire_measurement().name(),
                                            a.retire_measurement().version()),
                                    "measurement");
      if (!cur.ok()) return cur.status();
      if (!cur->has_value()) return absl::NotFoundError("no such measurement");
      if ((*cur)->retired_height() != 0) {
        return absl::FailedPreconditionError("measurement already retired");
      }
      return absl::OkStatus();
    }
    case v1::Action::kAddMember:
    case v1::Action::kRemoveMember: {
      const bool add = a.kind_case() == v1::Action::kAddMember;
      const std::string& who = add ? a.add_member() : a.remove_member();
      absl::StatusOr<bool> is = IsMember(ctx.store(), who);
      if (!is.ok()) return is.status();
      if (add && *is) return absl::AlreadyExistsError("already a member");
      if (!add && !*is) return absl::NotFoundError("not a member");
      absl::StatusOr<std::vector<std::string>> all = Members(ctx.store());
      if (!all.ok()) return all.status();
      if (add && all->size() >= kMaxMembers) {
        return absl::ResourceExhaustedError("too many members");
      }
      if (!add && all->size() <= 1) {
        return absl::FailedPreconditionError("the last member stays");
      }
      return absl::OkStatus();
    }
    case v1::Action::kSetParam:
    case v1::Action::kAddNode:
    case v1::Action::kRemoveNode:
    case v1::Action::KIND_NOT_SET:
      return absl::OkStatus();  // node changes are checked by the cluster
  }
  return absl::OkStatus();
}

absl::Status Execute(ledger::Context& ctx, const v1::Proposal& p) {
  const v1::Action& a = p.action();
  switch (a.kind_case()) {
    case v1::Action::kAddMeasurement: {
      v1::Measurement m = a.add_measurement();
      m.set_added_height(ctx.height());
      m.set_retired_height(0);
      m.set_proposal_id(p.id());
      ctx.store().Put(MeasKey(m.name(), m.version()), m.SerializeAsString());
      return absl::OkStatus();
    }
    case v1::Action::kRetireMeasurement: {
      const std::string key = MeasKey(a.retire_measurement().name(),
                                      a.retire_measurement().version());
      absl::StatusOr<std::optional<v1::Measurement>> cur =
          GetProto<v1::Measurement>(ctx.store(), key, "measurement");
      if (!cur.ok()) return cur.status();
      // The eviction policy: the nodes admitted under this measurement
      // leave the cluster now (refused, and nothing written, when no voter
      // would remain).
      absl::StatusOr<cluster::ClusterKeeper*> k =
          ctx.GetKeeper<cluster::ClusterKeeper>(cluster::kModuleName);
      if (!k.ok()) return k.status();
      absl::StatusOr<std::vector<uint64_t>> evicted = (*k)->EvictMeasurement(
          a.retire_measurement().name(), a.retire_measurement().version());
      if (!evicted.ok()) return evicted.status();
      (*cur)->set_retired_height(ctx.height());
      ctx.store().Put(key, (*cur)->SerializeAsString());
      return absl::OkStatus();
    }
    case v1::Action::kSetParam: {
      absl::StatusOr<v1::Params> params = ReadParams(ctx.store());
      if (!params.ok()) return params.status();
      const std::string& k = a.set_param().key();
      const std::string& v = a.set_param().value();
      if (k == "threshold_bps") {
        params->set_threshold_bps(static_cast<uint32_t>(std::stoul(v)));
      } else if (k == "voting_period_blocks") {
        params->set_voting_period_blocks(std::stoull(v));
      } else {
        params->set_attestation_required(v == "true");
      }
      ctx.store().Put(kParamsKey, params->SerializeAsString());
      return absl::OkStatus();
    }
    case v1::Action::kAddMember:
      ctx.store().Put(absl::StrCat(kMemberPrefix, a.add_member()), "");
      return absl::OkStatus();
    case v1::Action::kRemoveMember:
      ctx.store().Delete(absl::StrCat(kMemberPrefix, a.remove_member()));
      return absl::OkStatus();
    case v1::Action::kAddNode:
    case v1::Action::kRemoveNode: {
      absl::StatusOr<cluster::ClusterKeeper*> k =
          ctx.GetKeeper<cluster::ClusterKeeper>(cluster::kModuleName);
      if (!k.ok()) return k.status();
      return a.kind_case() == v1::Action::kAddNode
                 ? (*k)->AddNode(a.add_node())
                 : (*k)->RemoveNode(a.remove_node());
    }
    case v1::Action::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("no action");
}

absl::Status AuditProposal(ledger::Context& ctx, std::string_view kind,
                           const v1::Proposal& p) {
  audit::Details d;
  d["action"] = ActionName(p.action());
  d["yes"] = absl::StrCat(p.yes());
  d["no"] = absl::StrCat(p.no());
  return audit::RecordMessage(ctx, kind, absl::StrCat("proposal ", p.id()), p,
                              d);
}

absl::Status Decide(ledger::Context& ctx, v1::Proposal* p,
                    v1::ProposalStatus status, std::string result) {
  p->set_status(status);
  p->set_decided_height(ctx.height());
  p->set_result(std::move(result));
  ctx.store().Put(PropKey(p->id()), p->SerializeAsString());
  v1::EventProposalDecided ev;
  ev.set_id(p->id());
  ev.set_status(status);
  ev.set_result(p->result());
  ctx.events().Emit(ev);
  return AuditProposal(
      ctx,
      absl::StrCat("gov.proposal_", status == v1::PASSED     ? "passed"
                                    : status == v1::REJECTED ? "rejected"
                                                             : "failed"),
      *p);
}

absl::Status HandleSubmit(ledger::Context& ctx,
                          const v1::MsgSubmitProposal& m) {
  absl::StatusOr<bool> member = IsMember(ctx.store(), ctx.signer());
  if (!member.ok()) return member.status();
  if (!*member) {
    return absl::PermissionDeniedError(
        "gov: only members submit proposals; signer is not a member");
  }
  if (m.title().empty()) {
    return Invalid("MsgSubmitProposal.title", "empty");
  }
  if (absl::Status s = validate::ValidateText("MsgSubmitProposal.title",
                                              m.title(), kMaxTitleBytes);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateAction(m.action()); !s.ok()) return s;
  absl::StatusOr<v1::Params> params = ReadParams(ctx.store());
  if (!params.ok()) return params.status();
  absl::StatusOr<uint64_t> next = NextId(ctx.store());
  if (!next.ok()) return next.status();
  const uint64_t id = *next;
  ctx.store().Put(kNextIdKey, encoding::BigEndian64(id + 1));
  v1::Proposal p;
  p.set_id(id);
  p.set_proposer(ctx.signer());
  p.set_title(m.title());
  *p.mutable_action() = m.action();
  p.set_submit_height(ctx.height());
  p.set_expiry_height(ctx.height() + params->voting_period_blocks());
  p.set_status(v1::VOTING);
  ctx.store().Put(PropKey(id), p.SerializeAsString());
  v1::EventProposalSubmitted ev;
  ev.set_id(id);
  ev.set_proposer(ctx.signer());
  ctx.events().Emit(ev);
  return AuditProposal(ctx, "gov.proposal_submitted", p);
}

absl::Status HandleVote(ledger::Context& ctx, const v1::MsgVote& m) {
  absl::StatusOr<bool> member = IsMember(ctx.store(), ctx.signer());
  if (!member.ok()) return member.status();
  if (!*member) {
    return absl::PermissionDeniedError("gov: signer is not a member");
  }
  absl::StatusOr<std::optional<v1::Proposal>> p =
      GetProto<v1::Proposal>(ctx.store(), PropKey(m.proposal_id()), "proposal");
  if (!p.ok()) return p.status();
  if (!p->has_value()) {
    return absl::NotFoundError(
        absl::StrCat("gov: no proposal ", m.proposal_id()));
  }
  v1::Proposal& prop = **p;
  if (prop.status() != v1::VOTING) {
    return absl::FailedPreconditionError(
        absl::StrCat("gov: proposal ", prop.id(), " is decided (",
                     v1::ProposalStatus_Name(prop.status()), ")"));
  }
  if (ctx.height() >= prop.expiry_height()) {
    return absl::FailedPreconditionError(
        absl::StrCat("gov: proposal ", prop.id(), " expired at height ",
                     prop.expiry_height()));
  }
  const std::string vkey = VoteKey(prop.id(), ctx.signer());
  absl::StatusOr<std::optional<std::string>> prior = ctx.store().Get(vkey);
  if (!prior.ok()) return prior.status();
  if (prior->has_value()) {
    return absl::AlreadyExistsError("gov: this member already voted");
  }
  ctx.store().Put(vkey, m.yes() ? "y" : "n");
  if (m.yes()) {
    prop.set_yes(prop.yes() + 1);
  } else {
    prop.set_no(prop.no() + 1);
  }
  v1::EventVoted ev;
  ev.set_id(prop.id());
  ev.set_voter(ctx.signer());
  ev.set_yes(m.yes());
  ctx.events().Emit(ev);
  absl::StatusOr<v1::Params> params = ReadParams(ctx.store());
  if (!params.ok()) return params.status();
  absl::StatusOr<std::vector<std::string>> members = Members(ctx.store());
  if (!members.ok()) return members.status();
  // Integer arithmetic only: yes/members >= threshold_bps/10000.
  const uint64_t n = members->size();
  const uint64_t bps = params->threshold_bps();
  if (uint64_t{prop.yes()} * 10000 >= bps * n) {
    if (absl::Status s = CheckExecutable(ctx, prop); !s.ok()) {
      return Decide(ctx, &prop, v1::FAILED, std::string(s.message()));
    }
    if (absl::Status s = Execute(ctx, prop); !s.ok()) {
      // A node change the cluster refused: nothing of it was written
      // (the cluster checks before it writes).
      return Decide(ctx, &prop, v1::FAILED, std::string(s.message()));
    }
    return Decide(ctx, &prop, v1::PASSED, "");
  }
  // Rejected once the remaining members cannot reach the threshold.
  if ((n - prop.no()) * 10000 < bps * n) {
    return Decide(ctx, &prop, v1::REJECTED, "");
  }
  ctx.store().Put(PropKey(prop.id()), prop.SerializeAsString());
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateMeasurement(std::string_view field,
                                 const v1::Measurement& m) {
  const std::string f(field);
  if (!NameOk(m.name(), false, "._-")) {
    return Invalid(f + ".name", "want [a-z0-9][a-z0-9._-]{0,63}");
  }
  if (!NameOk(m.version(), true, "._+-")) {
    return Invalid(f + ".version", "want [A-Za-z0-9][A-Za-z0-9._+-]{0,63}");
  }
  if (m.values_size() == 0 || m.values_size() > 24) {
    return Invalid(f + ".values", "1..24 PCR values");
  }
  int64_t prev = -1;
  for (const v1::PcrValue& v : m.values()) {
    if (v.pcr() > kMaxPcr || static_cast<int64_t>(v.pcr()) <= prev) {
      return Invalid(f + ".values", "PCRs 0..23, increasing, each once");
    }
    prev = v.pcr();
    if (v.sha256().size() != 32) {
      return Invalid(f + ".values", "each value is 32 bytes (SHA-256 bank)");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Params> NormalizeParams(v1::Params p) {
  if (p.threshold_bps() == 0) p.set_threshold_bps(kDefaultThresholdBps);
  if (p.voting_period_blocks() == 0) {
    p.set_voting_period_blocks(kDefaultVotingPeriod);
  }
  if (p.threshold_bps() > 10000) {
    return Invalid("params.threshold_bps", "1..10000");
  }
  if (p.voting_period_blocks() > kMaxVotingPeriod) {
    return Invalid("params.voting_period_blocks", "1..10000000");
  }
  return p;
}

absl::StatusOr<std::vector<v1::Measurement>> ActiveMeasurements(
    const ledger::PrefixView& store) {
  absl::StatusOr<std::vector<v1::Measurement>> all = AllMeasurements(store);
  if (!all.ok()) return all.status();
  std::vector<v1::Measurement> out;
  for (v1::Measurement& m : *all) {
    if (m.retired_height() == 0) out.push_back(std::move(m));
  }
  return out;
}

absl::StatusOr<attest::Measurement> ToAllowlistEntry(const v1::Measurement& m) {
  if (absl::Status s = ValidateMeasurement("measurement", m); !s.ok()) {
    return s;
  }
  attest::Measurement out;
  out.name = m.name();
  out.version = m.version();
  out.retired = m.retired_height() != 0;
  for (const v1::PcrValue& p : m.values()) {
    crypto::Digest32 d{};
    std::copy(p.sha256().begin(), p.sha256().end(), d.begin());
    out.pcrs[p.pcr()] = d;
  }
  return out;
}

namespace {

class PolicyKeeper final : public cluster::AttestationPolicyKeeper {
 public:
  explicit PolicyKeeper(ledger::Context& ctx) : ctx_(ctx) {}
  absl::StatusOr<cluster::AttestationPolicy> Policy() override {
    cluster::AttestationPolicy out;
    absl::StatusOr<v1::Params> params = ReadParams(ctx_.store());
    if (!params.ok()) return params.status();
    out.required = params->attestation_required();
    absl::StatusOr<std::vector<v1::Measurement>> all =
        AllMeasurements(ctx_.store());
    if (!all.ok()) return all.status();
    for (const v1::Measurement& m : *all) {
      absl::StatusOr<attest::Measurement> e = ToAllowlistEntry(m);
      if (!e.ok()) return e.status();
      out.allowlist.push_back(*std::move(e));
    }
    return out;
  }

 private:
  ledger::Context& ctx_;
};

}  // namespace

std::unique_ptr<ledger::KeeperInterface> GovModule::NewKeeper(
    ledger::Context& own) const {
  return std::make_unique<PolicyKeeper>(own);
}

std::vector<ledger::MessageSpec> GovModule::messages() const {
  // Membership is checked by the module itself (gov members are not a gate
  // role: the gate's role facts belong to the cluster module for now).
  return {{std::string(kMsgSubmitProposalType), {}},
          {std::string(kMsgVoteType), {}}};
}

absl::Status GovModule::Handle(ledger::Context& ctx,
                               const google::protobuf::Any& msg) const {
  if (msg.type_url() == kMsgSubmitProposalType) {
    v1::MsgSubmitProposal m;
    if (absl::Status s =
            ledger::ParseStrict("gov: MsgSubmitProposal", msg.value(), &m);
        !s.ok()) {
      return s;
    }
    return HandleSubmit(ctx, m);
  }
  if (msg.type_url() == kMsgVoteType) {
    v1::MsgVote m;
    if (absl::Status s = ledger::ParseStrict("gov: MsgVote", msg.value(), &m);
        !s.ok()) {
      return s;
    }
    return HandleVote(ctx, m);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("gov: unknown message type ", msg.type_url()));
}

absl::StatusOr<std::string> GovModule::Query(const ledger::QueryContext& ctx,
                                             std::string_view path,
                                             std::string_view request) const {
  if (path == "proposals") {
    v1::QueryProposalsRequest req;
    if (absl::Status s =
            ledger::ParseStrict("gov: QueryProposalsRequest", request, &req);
        !s.ok()) {
      return s;
    }
    v1::QueryProposalsResponse resp;
    absl::Status err;
    absl::Status s = ctx.store().Scan(
        kPropPrefix, [&](std::string_view, std::string_view v) {
          v1::Proposal* p = resp.add_proposals();
          if (!p->ParseFromArray(v.data(), static_cast<int>(v.size()))) {
            err = absl::DataLossError("gov: corrupt proposal");
            return false;
          }
          if (p->status() == v1::VOTING && ctx.height() >= p->expiry_height()) {
            p->set_status(v1::EXPIRED);
          }
          return true;
        });
    if (!s.ok()) return s;
    if (!err.ok()) return err;
    return resp.SerializeAsString();
  }
  if (path == "measurements") {
    v1::QueryMeasurementsRequest req;
    if (absl::Status s =
            ledger::ParseStrict("gov: QueryMeasurementsRequest", request, &req);
        !s.ok()) {
      return s;
    }
    absl::StatusOr<std::vector<v1::Measurement>> all =
        AllMeasurements(ctx.store());
    if (!all.ok()) return all.status();
    v1::QueryMeasurementsResponse resp;
    for (v1::Measurement& m : *all) *resp.add_measurements() = std::move(m);
    return resp.SerializeAsString();
  }
  if (path == "params") {
    v1::QueryParamsRequest req;
    if (absl::Status s =
            ledger::ParseStrict("gov: QueryParamsRequest", request, &req);
        !s.ok()) {
      return s;
    }
    absl::StatusOr<v1::Params> params = ReadParams(ctx.store());
    if (!params.ok()) return params.status();
    absl::StatusOr<std::vector<std::string>> members = Members(ctx.store());
    if (!members.ok()) return members.status();
    v1::QueryParamsResponse resp;
    *resp.mutable_params() = *params;
    for (std::string& m : *members) resp.add_members(std::move(m));
    return resp.SerializeAsString();
  }
  return absl::NotFoundError(
      absl::StrCat("gov: unknown query path \"", std::string(path), "\""));
}

absl::Status GovModule::InitGenesis(ledger::Context& ctx,
                                    std::string_view genesis) const {
  v1::GenesisState g;
  if (absl::Status s = ledger::ParseStrict("gov: genesis", genesis, &g);
      !s.ok()) {
    return s;
  }
  if (static_cast<size_t>(g.members_size()) > kMaxMembers) {
    return Invalid("gov genesis: members", "more than 64");
  }
  std::set<std::string> seen;
  for (int i = 0; i < g.members_size(); ++i) {
    const std::string field = absl::StrCat("gov genesis: members[", i, "]");
    if (absl::Status s = ValidateAddress(field, g.members(i)); !s.ok()) {
      return s;
    }
    if (!seen.insert(g.members(i)).second) return Invalid(field, "duplicate");
  }
  absl::StatusOr<v1::Params> params = NormalizeParams(g.params());
  if (!params.ok()) return params.status();
  std::set<std::string> keys;
  for (int i = 0; i < g.measurements_size(); ++i) {
    v1::Measurement m = g.measurements(i);
    const std::string field =
        absl::StrCat("gov genesis: measurements[", i, "]");
    if (absl::Status s = ValidateMeasurement(field, m); !s.ok()) return s;
    if (!keys.insert(MeasKey(m.name(), m.version())).second) {
      return Invalid(field, "duplicate name and version");
    }
    m.set_added_height(0);
    m.set_retired_height(0);
    m.set_proposal_id(0);
    ctx.store().Put(MeasKey(m.name(), m.version()), m.SerializeAsString());
  }
  for (const std::string& m : seen) {
    ctx.store().Put(absl::StrCat(kMemberPrefix, m), "");
  }
  ctx.store().Put(kParamsKey, params->SerializeAsString());
  return absl::OkStatus();
}

absl::StatusOr<std::string> GovModule::ExportGenesis(
    const ledger::QueryContext& ctx) const {
  v1::GenesisState g;
  absl::StatusOr<std::vector<std::string>> members = Members(ctx.store());
  if (!members.ok()) return members.status();
  for (std::string& m : *members) g.add_members(std::move(m));
  absl::StatusOr<v1::Params> params = ReadParams(ctx.store());
  if (!params.ok()) return params.status();
  *g.mutable_params() = *params;
  absl::StatusOr<std::vector<v1::Measurement>> active =
      ActiveMeasurements(ctx.store());
  if (!active.ok()) return active.status();
  for (v1::Measurement& m : *active) *g.add_measurements() = std::move(m);
  return g.SerializeAsString();
}

absl::Status GovModule::CheckInvariants(const ledger::QueryContext& ctx) const {
  absl::StatusOr<v1::Params> params = ReadParams(ctx.store());
  if (!params.ok()) {
    return absl::InternalError(
        absl::StrCat("gov: invariant broken: ", params.status().message()));
  }
  absl::StatusOr<std::vector<v1::Measurement>> all =
      AllMeasurements(ctx.store());
  if (!all.ok()) return all.status();
  for (const v1::Measurement& m : *all) {
    if (absl::Status s = ValidateMeasurement("gov: measurement", m); !s.ok()) {
      return absl::InternalError(
          absl::StrCat("gov: invariant broken: ", s.message()));
    }
  }
  absl::StatusOr<uint64_t> next = NextId(ctx.store());
  if (!next.ok()) return next.status();
  const uint64_t next_id = *next;
  absl::Status err;
  absl::Status s =
      ctx.store().Scan(kPropPrefix, [&](std::string_view k, std::string_view) {
        const std::string_view id = k.substr(sizeof(kPropPrefix) - 1);
        if (id.size() != 8 || encoding::ReadBigEndian64(id) >= next_id) {
          err = absl::InternalError(
              "gov: invariant broken: a proposal key that is not an id "
              "below next_id");
          return false;
        }
        return true;
      });
  if (!s.ok()) return s;
  return err;
}

}  // namespace virtengine::gov
