// vectl gov propose|vote|list|params and vectl measurement list|propose: the
// governance module (docs/ledger/gov.md, src/api/gov/v1/gov.proto) through
// the node's public API: transactions built by the shared builder
// (BuildSignedTx) and submitted with SubmitTx (always waited for), queries
// with Node.Query (module "gov", consistent reads).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "security/keys/key_record.h"
#include "security/validate/number.h"
#include "src/api/cluster/v1/cluster.pb.h"
#include "src/api/gov/v1/gov.pb.h"
#include "src/api/ledger/v1/ledger.pb.h"
#include "src/cli/command.h"
#include "src/cli/files.h"
#include "src/cli/gov_inputs.h"
#include "src/cli/inputs.h"
#include "src/cli/json.h"
#include "src/cli/node_client.h"
#include "src/common/encoding/hex.h"

namespace virtengine::cli {

namespace gv1 = ::virtengine::gov::v1;

namespace {

constexpr char kTypePrefix[] = "/virtengine.gov.v1.";
constexpr char kModule[] = "gov";

std::string Hex(std::string_view b) { return encoding::HexEncode(b); }

// The action flags of `gov propose` (exactly one per proposal; the gov
// module's Action oneof without add_node, which needs the joining node's
// attestation: use the cluster commands for that).
constexpr std::string_view kActionFlags[] = {
    "add-measurement-manifest",
    "add-measurement",
    "retire-measurement",
    "set-param",
    "add-member",
    "remove-member",
    "remove-node",
};

// Flags that belong to some actions only.
struct SubFlag {
  std::string_view flag;
  std::string_view owner;
  std::string_view owner2;  // "" = none
};
constexpr SubFlag kSubFlags[] = {
    {"version", "add-measurement", "retire-measurement"},
    {"pcr", "add-measurement", ""},
    {"allow-debug-image", "add-measurement-manifest", ""},
};

constexpr char kNoAction[] =
    "no action: give exactly one of --add-measurement-manifest FILE, "
    "--add-measurement NAME, --retire-measurement NAME, --set-param "
    "KEY=VALUE, --add-member ADDRESS, --remove-member ADDRESS, --remove-node "
    "RAFT_ID";

absl::StatusOr<std::string> FromKey(const Context& ctx) {
  std::optional<std::string> from = ctx.Flag("from");
  if (!from.has_value()) {
    return UsageError("missing --from KEY (the key of a governance member)");
  }
  if (absl::Status s = keys::ValidateKeyName(*from); !s.ok()) {
    return UsageError(Prefixed("--from", s));
  }
  return *from;
}

// The manifest FILE of `field` read through the path validator (at most
// 1 MiB) and turned into the measurement it approves. A debug image's
// (console with a root shell) is refused unless --allow-debug-image: its
// measurement must never be approved by accident on a production chain.
absl::StatusOr<gv1::Measurement> ReadManifest(const Context& ctx,
                                              const std::string& field,
                                              const std::string& path) {
  absl::StatusOr<std::string> file =
      ReadUserFile(field, ctx.env.cwd, path, kMaxManifestBytes);
  if (!file.ok()) return UsageError(file.status());
  bool debug = false;
  absl::StatusOr<gv1::Measurement> m =
      MeasurementFromManifest(absl::StrCat(field, " ", path), *file, &debug);
  if (!m.ok()) return UsageError(m.status());
  if (debug && !ctx.Has("allow-debug-image")) {
    return UsageError(absl::StrCat(
        field, " ", path, ": ", m->name(), " ", m->version(),
        " is a DEBUG image (a console with a root shell): approving its "
        "measurement lets such a node join; pass --allow-debug-image to "
        "propose it anyway (lab chains only)"));
  }
  return m;
}

// The one action the flags of `gov propose` describe, validated.
absl::StatusOr<gv1::Action> ActionFromFlags(const Context& ctx) {
  std::vector<std::string_view> given;
  for (std::string_view a : kActionFlags) {
    if (ctx.Has(std::string(a))) given.push_back(a);
  }
  if (given.empty()) return UsageError(kNoAction);
  if (given.size() > 1) {
    return UsageError(absl::StrCat(
        "--", std::string(given[0]), " and --", std::string(given[1]),
        " exclude each other: a proposal carries exactly one action"));
  }
  const std::string action(given[0]);
  for (const SubFlag& s : kSubFlags) {
    if (ctx.Has(std::string(s.flag)) && s.owner != action &&
        s.owner2 != action) {
      return UsageError(absl::StrCat(
          "--", std::string(s.flag), " goes with --", std::string(s.owner),
          s.owner2.empty() ? "" : absl::StrCat(" or --", std::string(s.owner2)),
          " only"));
    }
  }
  const std::string value = ctx.Flag(action).value_or("");
  const std::string field = absl::StrCat("--", action);
  gv1::Action out;
  if (action == "add-measurement-manifest") {
    absl::StatusOr<gv1::Measurement> m = ReadManifest(ctx, field, value);
    if (!m.ok()) return m.status();
    *out.mutable_add_measurement() = *std::move(m);
  } else if (action == "add-measurement" || action == "retire-measurement") {
    if (!ctx.Has("version")) {
      return UsageError(absl::StrCat(field, " needs --version V"));
    }
    const std::string version = ctx.Flag("version").value_or("");
    if (action == "add-measurement") {
      absl::StatusOr<gv1::Measurement> m = MeasurementFromFlags(
          field, value, "--version", version, "--pcr", ctx.FlagValues("pcr"));
      if (!m.ok()) return UsageError(m.status());
      *out.mutable_add_measurement() = *std::move(m);
    } else {
      if (absl::Status s = ValidateMeasurementName(field, value); !s.ok()) {
        return UsageError(s);
      }
      if (absl::Status s = ValidateMeasurementVersion("--version", version);
          !s.ok()) {
        return UsageError(s);
      }
      out.mutable_retire_measurement()->set_name(value);
      out.mutable_retire_measurement()->set_version(version);
    }
  } else if (action == "set-param") {
    absl::StatusOr<gv1::SetParam> p = ParseSetParam(field, value);
    if (!p.ok()) return UsageError(p.status());
    *out.mutable_set_param() = *std::move(p);
  } else if (action == "add-member" || action == "remove-member") {
    if (absl::Status s = ValidateAccountAddress(field, value); !s.ok()) {
      return UsageError(s);
    }
    if (action == "add-member") {
      out.set_add_member(value);
    } else {
      out.set_remove_member(value);
    }
  } else {  // remove-node
    absl::StatusOr<uint64_t> id = ParseRaftId(field, value);
    if (!id.ok()) return UsageError(id.status());
    out.set_remove_node(*id);
  }
  return out;
}

template <typename M>
google::protobuf::Any PackGov(const M& m, std::string_view name) {
  google::protobuf::Any any;
  any.set_type_url(absl::StrCat(kTypePrefix, std::string(name)));
  any.set_value(m.SerializeAsString());
  return any;
}

// A signed governance tx and, unless --dry-run, the node's answer once it
// committed.
struct Submission {
  SignedTx tx;
  bool submitted = false;
  node::v1::SubmitTxResponse resp;
  std::string node_hash;
  uint32_t code = 0;
};

// Signs `msg` with `from_key` (the shared builder: key store, chain id and
// sequence from the node unless given, self-check); prints it on --dry-run,
// else submits it and waits for its commit.
absl::StatusOr<Submission> SignAndSubmit(const Context& ctx,
                                         const std::string& from_key,
                                         const TxFlags& flags,
                                         const google::protobuf::Any& msg) {
  absl::StatusOr<SignedTx> tx =
      BuildSignedTx(ctx, from_key, flags,
                    [&msg](const std::string& /*signer*/)
                        -> absl::StatusOr<std::vector<google::protobuf::Any>> {
                      return std::vector<google::protobuf::Any>{msg};
                    });
  if (!tx.ok()) return tx.status();
  Submission out;
  out.tx = *std::move(tx);
  if (flags.dry_run) {
    PrintDryRun(ctx, out.tx);
    return out;
  }
  NodeClient client(ctx.node, ctx.timeout);
  absl::StatusOr<node::v1::SubmitTxResponse> resp =
      client.SubmitTx(out.tx.bytes, /*wait_for_commit=*/true);
  if (!resp.ok()) {
    return Prefixed(absl::StrCat("SubmitTx ", out.tx.hash_hex), resp.status());
  }
  out.submitted = true;
  out.resp = *std::move(resp);
  out.node_hash =
      out.resp.tx_hash().empty() ? out.tx.hash_hex : Hex(out.resp.tx_hash());
  out.code = out.resp.result().code();
  return out;
}

void CommonJson(JsonWriter& w, const Submission& s) {
  w.Key("tx_hash").String(s.node_hash);
  w.Key("code").Uint(s.code).Key("log").String(s.resp.result().log());
  w.Key("height").Uint(s.resp.height());
}

void CommonText(std::ostream& out, const Submission& s) {
  out << "tx_hash: " << s.node_hash << "\n"
      << "code: " << s.code << (s.code == 0 ? " (ok)" : "") << "\n";
  if (!s.resp.result().log().empty()) {
    out << "log: " << TextSafe(s.resp.result().log()) << "\n";
  }
  out << "height: " << s.resp.height() << "\n";
}

// Exit 1 when the node answered for another tx or the tx failed.
absl::Status Outcome(const Submission& s) {
  if (s.node_hash != s.tx.hash_hex) {
    return absl::DataLossError(absl::StrCat("the node reports tx hash ",
                                            s.node_hash, " but the tx is ",
                                            s.tx.hash_hex));
  }
  if (s.code != 0) {
    return absl::AbortedError(absl::StrCat("transaction ", s.node_hash,
                                           " failed with code ", s.code, ": ",
                                           s.resp.result().log()));
  }
  return absl::OkStatus();
}

// The first event of type gov.v1.<name> in the tx result.
template <typename E>
std::optional<E> FindEvent(const Submission& s, std::string_view name) {
  const std::string url = absl::StrCat(kTypePrefix, std::string(name));
  for (const ledger::v1::Event& e : s.resp.result().events()) {
    if (e.body().type_url() != url) continue;
    E ev;
    if (ev.ParseFromString(e.body().value())) return ev;
  }
  return std::nullopt;
}

// Submits a proposal and prints its id.
absl::Status Propose(Context& ctx, const std::string& from_key,
                     const std::string& title, const gv1::Action& action) {
  absl::StatusOr<TxFlags> flags = ParseTxFlags(ctx);
  if (!flags.ok()) return flags.status();
  gv1::MsgSubmitProposal msg;
  msg.set_title(title);
  *msg.mutable_action() = action;
  absl::StatusOr<Submission> sub =
      SignAndSubmit(ctx, from_key, *flags, PackGov(msg, "MsgSubmitProposal"));
  if (!sub.ok()) return sub.status();
  if (!sub->submitted) return absl::OkStatus();
  std::optional<gv1::EventProposalSubmitted> ev;
  if (sub->code == 0) {
    ev = FindEvent<gv1::EventProposalSubmitted>(*sub, "EventProposalSubmitted");
  }
  if (ctx.json) {
    JsonWriter w;
    w.BeginObject();
    CommonJson(w, *sub);
    w.Key("proposal_id");
    if (ev.has_value()) {
      w.Uint(ev->id());
    } else {
      w.Null();
    }
    w.EndObject();
    ctx.out << w.str() << "\n";
  } else {
    CommonText(ctx.out, *sub);
    if (ev.has_value()) {
      ctx.out << "proposal_id: " << ev->id() << "\n";
    } else if (sub->code == 0) {
      ctx.out << "proposal_id: unknown (the tx result carries no "
                 "EventProposalSubmitted; see 'vectl gov list')\n";
    }
  }
  return Outcome(*sub);
}

// ---- queries ---------------------------------------------------------------

template <typename Resp>
absl::StatusOr<Resp> QueryGov(const Context& ctx, std::string_view path,
                              const google::protobuf::Message& req,
                              uint64_t* height) {
  NodeClient client(ctx.node, ctx.timeout);
  absl::StatusOr<node::v1::QueryResponse> r =
      client.Query(kModule, path, req.SerializeAsString(),
                   /*consistent=*/true);
  if (!r.ok()) {
    return Prefixed(
        absl::StrCat("Query gov/", std::string(path), " from ", ctx.node),
        r.status());
  }
  Resp out;
  if (!out.ParseFromString(r->response())) {
    return absl::DataLossError(
        absl::StrCat("Query gov/", std::string(path), " from ", ctx.node,
                     ": the answer is not a ", out.GetTypeName()));
  }
  *height = r->height();
  return out;
}

void PcrValuesJson(JsonWriter& w, const gv1::Measurement& m) {
  w.Key("values").BeginArray();
  for (const gv1::PcrValue& v : m.values()) {
    w.BeginObject()
        .Key("pcr")
        .Uint(v.pcr())
        .Key("sha256")
        .String(Hex(v.sha256()))
        .EndObject();
  }
  w.EndArray();
}

std::string PcrText(const gv1::PcrValue& v) {
  return absl::StrCat(v.pcr(), "=", Hex(v.sha256()));
}

void ActionJson(JsonWriter& w, const gv1::Action& a) {
  w.BeginObject();
  switch (a.kind_case()) {
    case gv1::Action::kAddMeasurement:
      w.Key("type").String("add_measurement");
      w.Key("name").String(a.add_measurement().name());
      w.Key("version").String(a.add_measurement().version());
      PcrValuesJson(w, a.add_measurement());
      break;
    case gv1::Action::kRetireMeasurement:
      w.Key("type").String("retire_measurement");
      w.Key("name").String(a.retire_measurement().name());
      w.Key("version").String(a.retire_measurement().version());
      break;
    case gv1::Action::kSetParam:
      w.Key("type").String("set_param");
      w.Key("key").String(a.set_param().key());
      w.Key("value").String(a.set_param().value());
      break;
    case gv1::Action::kAddMember:
      w.Key("type").String("add_member").Key("address").String(a.add_member());
      break;
    case gv1::Action::kRemoveMember:
      w.Key("type")
          .String("remove_member")
          .Key("address")
          .String(a.remove_member());
      break;
    case gv1::Action::kAddNode:
      w.Key("type").String("add_node");
      w.Key("raft_id").Uint(a.add_node().raft_id());
      w.Key("raft_address").String(a.add_node().raft_address());
      w.Key("grpc_address").String(a.add_node().grpc_address());
      w.Key("node_public_key").String(Hex(a.add_node().node_public_key()));
      w.Key("voter").Bool(a.add_node().voter());
      break;
    case gv1::Action::kRemoveNode:
      w.Key("type").String("remove_node").Key("raft_id").Uint(a.remove_node());
      break;
    case gv1::Action::KIND_NOT_SET:
      w.Key("type").String("none");
      break;
  }
  w.EndObject();
}

// One line; strings from the node escaped.
std::string ActionText(const gv1::Action& a) {
  switch (a.kind_case()) {
    case gv1::Action::kAddMeasurement: {
      std::string s =
          absl::StrCat("add_measurement ", TextSafe(a.add_measurement().name()),
                       " ", TextSafe(a.add_measurement().version()));
      for (const gv1::PcrValue& v : a.add_measurement().values()) {
        absl::StrAppend(&s, " pcr", PcrText(v));
      }
      return s;
    }
    case gv1::Action::kRetireMeasurement:
      return absl::StrCat("retire_measurement ",
                          TextSafe(a.retire_measurement().name()), " ",
                          TextSafe(a.retire_measurement().version()));
    case gv1::Action::kSetParam:
      return absl::StrCat("set_param ", TextSafe(a.set_param().key()), "=",
                          TextSafe(a.set_param().value()));
    case gv1::Action::kAddMember:
      return absl::StrCat("add_member ", TextSafe(a.add_member()));
    case gv1::Action::kRemoveMember:
      return absl::StrCat("remove_member ", TextSafe(a.remove_member()));
    case gv1::Action::kAddNode:
      return absl::StrCat(
          "add_node ", a.add_node().raft_id(), " ",
          TextSafe(a.add_node().raft_address()),
          " key=", Hex(a.add_node().node_public_key()),
          a.add_node().grpc_address().empty()
              ? ""
              : absl::StrCat(" api=", TextSafe(a.add_node().grpc_address())),
          a.add_node().voter() ? " voter" : " non-voter");
    case gv1::Action::kRemoveNode:
      return absl::StrCat("remove_node ", a.remove_node());
    case gv1::Action::KIND_NOT_SET:
      break;
  }
  return "none";
}

std::string HeightOrDash(uint64_t h) { return h == 0 ? "-" : absl::StrCat(h); }

}  // namespace

absl::Status RunGovPropose(Context& ctx) {
  absl::StatusOr<std::string> from = FromKey(ctx);
  if (!from.ok()) return from.status();
  std::optional<std::string> title = ctx.Flag("title");
  if (!title.has_value()) {
    return UsageError("missing --title TEXT (1-256 bytes of UTF-8)");
  }
  if (absl::Status s = ValidateProposalTitle("--title", *title); !s.ok()) {
    return UsageError(s);
  }
  absl::StatusOr<gv1::Action> action = ActionFromFlags(ctx);
  if (!action.ok()) return action.status();
  return Propose(ctx, *from, *title, *action);
}

absl::Status RunMeasurementPropose(Context& ctx) {
  absl::StatusOr<std::string> from = FromKey(ctx);
  if (!from.ok()) return from.status();
  std::optional<std::string> path = ctx.Flag("manifest");
  if (!path.has_value()) {
    return UsageError(
        "missing --manifest FILE (the image's manifest.json from image/build)");
  }
  if (std::optional<std::string> t = ctx.Flag("title"); t.has_value()) {
    if (absl::Status s = ValidateProposalTitle("--title", *t); !s.ok()) {
      return UsageError(s);
    }
  }
  absl::StatusOr<gv1::Measurement> m = ReadManifest(ctx, "--manifest", *path);
  if (!m.ok()) return m.status();
  const std::string title = ctx.Flag("title").value_or(
      absl::StrCat("add measurement ", m->name(), " ", m->version()));
  gv1::Action action;
  *action.mutable_add_measurement() = *std::move(m);
  return Propose(ctx, *from, title, action);
}

absl::Status RunGovVote(Context& ctx) {
  absl::StatusOr<std::string> from = FromKey(ctx);
  if (!from.ok()) return from.status();
  std::optional<std::string> id_text = ctx.Flag("proposal");
  if (!id_text.has_value()) return UsageError("missing --proposal ID");
  absl::StatusOr<uint64_t> id =
      validate::ParseUint64("--proposal", *id_text, 1);
  if (!id.ok()) return UsageError(id.status());
  const bool yes = ctx.Has("yes");
  if (yes == ctx.Has("no")) {
    return UsageError(yes ? "--yes and --no exclude each other"
                          : "missing --yes or --no (the vote)");
  }
  absl::StatusOr<TxFlags> flags = ParseTxFlags(ctx);
  if (!flags.ok()) return flags.status();
  gv1::MsgVote msg;
  msg.set_proposal_id(*id);
  msg.set_yes(yes);
  absl::StatusOr<Submission> sub =
      SignAndSubmit(ctx, *from, *flags, PackGov(msg, "MsgVote"));
  if (!sub.ok()) return sub.status();
  if (!sub->submitted) return absl::OkStatus();
  std::optional<gv1::EventVoted> voted;
  std::optional<gv1::EventProposalDecided> decided;
  if (sub->code == 0) {
    voted = FindEvent<gv1::EventVoted>(*sub, "EventVoted");
    decided =
        FindEvent<gv1::EventProposalDecided>(*sub, "EventProposalDecided");
  }
  // The proposal's status after this vote: decided, still voting, or
  // unknown when the result carries no gov event (or the tx failed).
  const std::string status = decided.has_value()
                                 ? gv1::ProposalStatus_Name(decided->status())
                             : voted.has_value() ? "VOTING"
                                                 : "";
  const std::string result = decided.has_value() ? decided->result() : "";
  if (ctx.json) {
    JsonWriter w;
    w.BeginObject();
    CommonJson(w, *sub);
    w.Key("proposal_id").Uint(*id).Key("vote").String(yes ? "yes" : "no");
    w.Key("status").String(status).Key("result").String(result);
    w.EndObject();
    ctx.out << w.str() << "\n";
  } else {
    CommonText(ctx.out, *sub);
    ctx.out << "proposal_id: " << *id << "\n"
            << "vote: " << (yes ? "yes" : "no") << "\n";
    if (sub->code == 0) {
      ctx.out << "status: " << (status.empty() ? "unknown" : status) << "\n";
    }
    if (!result.empty()) ctx.out << "result: " << TextSafe(result) << "\n";
  }
  if (decided.has_value() && decided->status() == gv1::FAILED) {
    ctx.err << "warning: proposal " << *id
            << " passed but its action failed: " << TextSafe(result) << "\n";
  }
  return Outcome(*sub);
}

absl::Status RunGovList(Context& ctx) {
  uint64_t height = 0;
  absl::StatusOr<gv1::QueryProposalsResponse> r =
      QueryGov<gv1::QueryProposalsResponse>(
          ctx, "proposals", gv1::QueryProposalsRequest(), &height);
  if (!r.ok()) return r.status();
  if (ctx.json) {
    JsonWriter w;
    w.BeginObject().Key("height").Uint(height).Key("proposals").BeginArray();
    for (const gv1::Proposal& p : r->proposals()) {
      w.BeginObject()
          .Key("id")
          .Uint(p.id())
          .Key("proposer")
          .String(p.proposer())
          .Key("title")
          .String(p.title())
          .Key("status")
          .String(gv1::ProposalStatus_Name(p.status()))
          .Key("yes")
          .Uint(p.yes())
          .Key("no")
          .Uint(p.no())
          .Key("submit_height")
          .Uint(p.submit_height())
          .Key("expiry_height")
          .Uint(p.expiry_height())
          .Key("decided_height")
          .Uint(p.decided_height())
          .Key("result")
          .String(p.result());
      w.Key("action");
      ActionJson(w, p.action());
      w.EndObject();
    }
    w.EndArray().EndObject();
    ctx.out << w.str() << "\n";
    return absl::OkStatus();
  }
  ctx.out << "height: " << height << "\n"
          << "proposals: " << r->proposals_size() << "\n";
  if (r->proposals_size() == 0) return absl::OkStatus();
  std::vector<std::vector<std::string>> rows = {
      {"ID", "STATUS", "YES", "NO", "EXPIRY", "DECIDED", "PROPOSER", "TITLE",
       "ACTION"}};
  for (const gv1::Proposal& p : r->proposals()) {
    rows.push_back({absl::StrCat(p.id()), gv1::ProposalStatus_Name(p.status()),
                    absl::StrCat(p.yes()), absl::StrCat(p.no()),
                    absl::StrCat(p.expiry_height()),
                    HeightOrDash(p.decided_height()), TextSafe(p.proposer()),
                    TextSafe(p.title()), ActionText(p.action())});
  }
  ctx.out << TextTable(rows);
  for (const gv1::Proposal& p : r->proposals()) {
    if (!p.result().empty()) {
      ctx.out << "proposal " << p.id() << " "
              << gv1::ProposalStatus_Name(p.status()) << ": "
              << TextSafe(p.result()) << "\n";
    }
  }
  return absl::OkStatus();
}

absl::Status RunGovParams(Context& ctx) {
  uint64_t height = 0;
  absl::StatusOr<gv1::QueryParamsResponse> r =
      QueryGov<gv1::QueryParamsResponse>(ctx, "params",
                                         gv1::QueryParamsRequest(), &height);
  if (!r.ok()) return r.status();
  const gv1::Params& p = r->params();
  const uint64_t members = static_cast<uint64_t>(r->members_size());
  // The smallest yes count with yes * 10000 >= threshold_bps * members.
  const uint64_t needed =
      (uint64_t{p.threshold_bps()} * members + 9999) / 10000;
  if (ctx.json) {
    JsonWriter w;
    w.BeginObject()
        .Key("height")
        .Uint(height)
        .Key("threshold_bps")
        .Uint(p.threshold_bps())
        .Key("voting_period_blocks")
        .Uint(p.voting_period_blocks())
        .Key("attestation_required")
        .Bool(p.attestation_required())
        .Key("votes_needed")
        .Uint(needed);
    w.Key("members").BeginArray();
    for (const std::string& m : r->members()) w.String(m);
    w.EndArray().EndObject();
    ctx.out << w.str() << "\n";
    return absl::OkStatus();
  }
  ctx.out << "height: " << height << "\n"
          << "threshold_bps: " << p.threshold_bps()
          << " (a proposal passes with " << needed << " yes vote"
          << (needed == 1 ? "" : "s") << " of " << members << " member"
          << (members == 1 ? "" : "s") << ")\n"
          << "voting_period_blocks: " << p.voting_period_blocks() << "\n"
          << "attestation_required: "
          << (p.attestation_required() ? "true" : "false") << "\n"
          << "members: " << members << "\n";
  for (const std::string& m : r->members()) {
    ctx.out << "  " << TextSafe(m) << "\n";
  }
  return absl::OkStatus();
}

absl::Status RunMeasurementList(Context& ctx) {
  uint64_t height = 0;
  absl::StatusOr<gv1::QueryMeasurementsResponse> r =
      QueryGov<gv1::QueryMeasurementsResponse>(
          ctx, "measurements", gv1::QueryMeasurementsRequest(), &height);
  if (!r.ok()) return r.status();
  if (ctx.json) {
    JsonWriter w;
    w.BeginObject().Key("height").Uint(height).Key("measurements").BeginArray();
    for (const gv1::Measurement& m : r->measurements()) {
      w.BeginObject().Key("name").String(m.name()).Key("version").String(
          m.version());
      PcrValuesJson(w, m);
      w.Key("added_height")
          .Uint(m.added_height())
          .Key("retired_height")
          .Uint(m.retired_height())
          .Key("retired")
          .Bool(m.retired_height() != 0)
          .Key("proposal_id")
          .Uint(m.proposal_id())
          .EndObject();
    }
    w.EndArray().EndObject();
    ctx.out << w.str() << "\n";
    return absl::OkStatus();
  }
  ctx.out << "height: " << height << "\n"
          << "measurements: " << r->measurements_size() << "\n";
  if (r->measurements_size() == 0) return absl::OkStatus();
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "VERSION", "STATE", "ADDED", "RETIRED", "PROPOSAL", "PCRS"}};
  for (const gv1::Measurement& m : r->measurements()) {
    std::vector<std::string> row = {
        TextSafe(m.name()),
        TextSafe(m.version()),
        m.retired_height() == 0 ? "active" : "retired",
        absl::StrCat(m.added_height()),
        HeightOrDash(m.retired_height()),
        m.proposal_id() == 0 ? "genesis" : absl::StrCat(m.proposal_id()),
        m.values_size() == 0 ? "-" : PcrText(m.values(0))};
    rows.push_back(std::move(row));
    // Further PCRs on their own lines, in the last column.
    for (int i = 1; i < m.values_size(); ++i) {
      rows.push_back({"", "", "", "", "", "", PcrText(m.values(i))});
    }
  }
  ctx.out << TextTable(rows);
  return absl::OkStatus();
}

}  // namespace virtengine::cli
