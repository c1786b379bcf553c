// vectl evidence: the compliance evidence tool with a running node
// (evidence.h): the node's facts, quote and signature through its admin
// socket, the measurement allowlist from governance, ledger anchors signed
// by the operator's key, and offline quote and receipt verification.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "compliance/evidence_cli.h"
#include "compliance/json/json.h"
#include "grpcpp/grpcpp.h"
#include "security/keys/key_record.h"
#include "src/api/audit/v1/audit.pb.h"
#include "src/api/gov/v1/gov.pb.h"
#include "src/api/node/v1/admin.grpc.pb.h"
#include "src/cli/command.h"
#include "src/cli/evidence.h"
#include "src/cli/files.h"
#include "src/cli/inputs.h"
#include "src/cli/node_client.h"
#include "src/cli/receipt_json.h"
#include "src/common/encoding/hex.h"
#include "src/ledger/chain/ledger.h"

namespace virtengine::cli {

namespace {

using compliance::bundle::Digest;
using compliance::json::Value;
namespace nv1 = ::virtengine::node::v1;

constexpr std::chrono::milliseconds kNodeTimeout{60000};
constexpr char kRecordAuditTypeUrl[] = "/virtengine.audit.v1.MsgRecordAudit";

constexpr char kFrontEndUsage[] =
    "\n"
    "vectl, against a running node (docs/compliance/README.md):\n"
    "  vectl evidence export --out PATH --admin-socket PATH [--node ADDR]\n"
    "      [--from KEY [--fee COIN] [--vectl-home DIR]\n"
    "      [--passphrase-file FILE]] [the export options above except\n"
    "      --signing-key / --ephemeral-key: the node signs]\n"
    "  vectl evidence verify PATH --key HEX [--ledger-key HEX]...\n"
    "      [--measurements FILE] [--require-quote] [--require-receipt]\n"
    "--admin-socket: the node's facts, TPM quote and signature (its key).\n"
    "--node (else VECTL_NODE, else 127.0.0.1:9090): the measurements in\n"
    "  force, and with --from the ledger anchors of the bundle digest and\n"
    "  of the node's audit-log head (MsgRecordAudit signed by KEY of the\n"
    "  vectl key store: --vectl-home, else VECTL_HOME, else ~/.vectl).\n"
    "verify checks the quote against the bundle's measurements (or\n"
    "--measurements, e.g. 'vectl measurement list --output json') and the\n"
    "receipt against --key or a --ledger-key.\n";

std::string HexOf(std::string_view bytes) {
  return encoding::HexEncode(absl::Span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

std::string DigestBytes(const Digest& d) {
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

// The Admin service's evidence RPCs on the node's Unix socket.
class AdminEvidenceClient {
 public:
  explicit AdminEvidenceClient(const std::string& socket_path)
      : socket_(socket_path) {
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(kMaxSendMessageBytes);
    args.SetMaxReceiveMessageSize(kMaxReceiveMessageBytes);
    // A local socket guarded by its file mode (docs/api/admin.md).
    stub_ = nv1::Admin::NewStub(grpc::CreateCustomChannel(
        "unix:" + socket_path, grpc::InsecureChannelCredentials(), args));
  }

  absl::StatusOr<nv1::EvidenceFactsResponse> Facts() {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + kNodeTimeout);
    nv1::EvidenceFactsResponse resp;
    grpc::Status s =
        stub_->EvidenceFacts(&ctx, nv1::EvidenceFactsRequest(), &resp);
    if (!s.ok()) return Prefixed(Where("EvidenceFacts"), FromGrpc(s));
    return resp;
  }

  absl::StatusOr<attest::v1::Evidence> Quote(const Digest& digest) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + kNodeTimeout);
    nv1::EvidenceQuoteRequest req;
    req.set_bundle_digest(DigestBytes(digest));
    nv1::EvidenceQuoteResponse resp;
    grpc::Status s = stub_->EvidenceQuote(&ctx, req, &resp);
    if (!s.ok()) return Prefixed(Where("EvidenceQuote"), FromGrpc(s));
    return resp.evidence();
  }

  absl::StatusOr<nv1::EvidenceSignResponse> Sign(std::string_view statement,
                                                 const Digest& digest) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + kNodeTimeout);
    nv1::EvidenceSignRequest req;
    req.set_bundle_digest(DigestBytes(digest));
    req.set_statement(std::string(statement));
    nv1::EvidenceSignResponse resp;
    grpc::Status s = stub_->EvidenceSign(&ctx, req, &resp);
    if (!s.ok()) return Prefixed(Where("EvidenceSign"), FromGrpc(s));
    return resp;
  }

 private:
  std::string Where(std::string_view rpc) const {
    return absl::StrCat(std::string(rpc), " on ", socket_);
  }
  std::string socket_;
  std::unique_ptr<nv1::Admin::Stub> stub_;
};

// The node's TPM quote over the bundle digest (purpose "evidence"), checked
// for shape before it goes into the bundle.
class NodeQuoteProvider final : public compliance::bundle::QuoteProvider {
 public:
  NodeQuoteProvider(std::shared_ptr<AdminEvidenceClient> admin,
                    std::string node_key)
      : admin_(std::move(admin)), node_key_(std::move(node_key)) {}
  std::string format() const override { return kQuoteFormat; }
  absl::StatusOr<std::string> Quote(const Digest& nonce) override {
    absl::StatusOr<attest::v1::Evidence> e = admin_->Quote(nonce);
    if (!e.ok()) return e.status();
    if (e->purpose() != "evidence" || e->nonce() != DigestBytes(nonce) ||
        e->node_public_key() != node_key_) {
      return absl::DataLossError(
          "the node's quote is not for purpose 'evidence', this bundle's "
          "digest and the node key it reported");
    }
    std::string out;
    if (!e->SerializeToString(&out) || out.size() > kMaxQuoteBytes) {
      return absl::InternalError("cannot serialise the node's quote");
    }
    return out;
  }

 private:
  std::shared_ptr<AdminEvidenceClient> admin_;
  std::string node_key_;
};

// The node signs the statement with its key (which never leaves it).
class NodeStatementSigner final : public compliance::bundle::StatementSigner {
 public:
  NodeStatementSigner(std::shared_ptr<AdminEvidenceClient> admin,
                      crypto::Ed25519PublicKey key)
      : admin_(std::move(admin)), key_(key) {}
  const crypto::Ed25519PublicKey& public_key() const override { return key_; }
  absl::StatusOr<crypto::Ed25519Signature> Sign(
      std::string_view statement, const Digest& bundle_digest) override {
    absl::StatusOr<nv1::EvidenceSignResponse> r =
        admin_->Sign(statement, bundle_digest);
    if (!r.ok()) return r.status();
    if (r->public_key() != crypto::AsChars(key_.view())) {
      return absl::DataLossError(
          absl::StrCat("the node signed with key ", HexOf(r->public_key()),
                       ", not the key it reported (",
                       HexOf(crypto::AsChars(key_.view())), ")"));
    }
    crypto::Ed25519Signature sig{};
    if (r->signature().size() != sig.size()) {
      return absl::DataLossError("the node's signature is not 64 bytes");
    }
    std::copy(r->signature().begin(), r->signature().end(), sig.begin());
    return sig;
  }

 private:
  std::shared_ptr<AdminEvidenceClient> admin_;
  crypto::Ed25519PublicKey key_;
};

// Records a digest in the ledger with a MsgRecordAudit signed by the
// operator's key, waits for the commit, and returns the receipt and the tx.
class AuditRecorder {
 public:
  AuditRecorder(Context* ctx, std::string from, TxFlags flags)
      : ctx_(ctx), from_(std::move(from)), flags_(std::move(flags)) {}

  struct Recorded {
    compliance::bundle::LedgerRecord record;
    std::string tx_hash_hex;
    uint64_t height = 0;
  };

  absl::StatusOr<Recorded> Record(const std::string& kind,
                                  const std::string& subject,
                                  const std::string& digest) {
    absl::StatusOr<SignedTx> tx = BuildSignedTx(
        *ctx_, from_, flags_,
        [&](const std::string&)
            -> absl::StatusOr<std::vector<google::protobuf::Any>> {
          audit::v1::MsgRecordAudit msg;
          msg.set_kind(kind);
          msg.set_subject(subject);
          msg.set_digest(digest);
          std::vector<google::protobuf::Any> msgs(1);
          msgs[0].set_type_url(kRecordAuditTypeUrl);
          msgs[0].set_value(msg.SerializeAsString());
          return msgs;
        });
    if (!tx.ok()) return Prefixed("the anchoring transaction", tx.status());
    NodeClient client(ctx_->node, ctx_->timeout);
    absl::StatusOr<nv1::SubmitTxResponse> resp =
        client.SubmitTx(tx->bytes, /*wait_for_commit=*/true);
    if (!resp.ok()) {
      return Prefixed(
          absl::StrCat("SubmitTx ", tx->hash_hex, " to ", ctx_->node),
          resp.status());
    }
    if (resp->result().code() != 0) {
      return absl::AbortedError(absl::StrCat(
          "the anchoring transaction ", tx->hash_hex, " failed with code ",
          resp->result().code(), ": ", resp->result().log()));
    }
    absl::StatusOr<std::vector<uint8_t>> hash_bytes =
        encoding::HexDecode(tx->hash_hex, 32);
    if (!hash_bytes.ok() || hash_bytes->size() != 32) {
      return absl::InternalError("the anchoring transaction has no hash");
    }
    const std::string hash(hash_bytes->begin(), hash_bytes->end());
    absl::StatusOr<nv1::GetReceiptResponse> r = client.GetReceipt(hash);
    if (!r.ok()) {
      return Prefixed(absl::StrCat("GetReceipt ", tx->hash_hex), r.status());
    }
    if (r->receipt().tx_hash() != hash) {
      return absl::DataLossError(absl::StrCat(
          "the node returned the receipt of another tx than ", tx->hash_hex));
    }
    if (absl::Status s = ledger::VerifyReceipt(r->receipt(), ""); !s.ok()) {
      return Prefixed("the node's receipt", s);
    }
    absl::StatusOr<std::string> json = ReceiptToJson(r->receipt());
    if (!json.ok()) return Prefixed("the node's receipt", json.status());
    Recorded out;
    out.record.receipt = *json + "\n";
    out.record.tx = tx->bytes;
    out.tx_hash_hex = tx->hash_hex;
    out.height = resp->height();
    return out;
  }

 private:
  Context* ctx_;
  std::string from_;
  TxFlags flags_;
};

class BundleAnchor final : public compliance::bundle::LedgerAnchor {
 public:
  BundleAnchor(std::shared_ptr<AuditRecorder> recorder, std::string subject)
      : recorder_(std::move(recorder)), subject_(std::move(subject)) {}
  absl::StatusOr<compliance::bundle::LedgerRecord> Anchor(
      const Digest& bundle_digest) override {
    absl::StatusOr<AuditRecorder::Recorded> r = recorder_->Record(
        kBundleAuditKind, subject_, DigestBytes(bundle_digest));
    if (!r.ok()) return r.status();
    return r->record;
  }

 private:
  std::shared_ptr<AuditRecorder> recorder_;
  std::string subject_;
};

Value U(uint64_t n) { return Value::NumberText(absl::StrCat(n)); }

std::string FactsJson(const nv1::EvidenceFactsResponse& f,
                      const std::string& socket) {
  Value doc = Value::Object();
  doc.Set("source", Value::Str(absl::StrCat("ve-node admin API ", socket,
                                            " (Admin.EvidenceFacts)")));
  doc.Set("pid", U(f.pid()));
  doc.Set("node_public_key", Value::Str(HexOf(f.node_public_key())));
  doc.Set("chain_id", Value::Str(f.chain_id()));
  doc.Set("moniker", Value::Str(f.moniker()));
  doc.Set("version", Value::Str(f.version()));
  doc.Set("height", U(f.height()));
  doc.Set("time_unix_nano", Value::Int(f.time_unix_nano()));
  Value sc = Value::Object();
  sc.Set("mode", Value::Str(f.seccomp().mode()));
  sc.Set("proc_status_seccomp", Value::Int(f.seccomp().proc_status_seccomp()));
  if (!f.seccomp().proc_status_error().empty()) {
    sc.Set("proc_status_error", Value::Str(f.seccomp().proc_status_error()));
  }
  sc.Set("loaded_policy_sha256",
         Value::Str(f.seccomp().loaded_policy_sha256()));
  doc.Set("seccomp", std::move(sc));
  doc.Set("crypto_policy_sha256", Value::Str(f.crypto_policy_sha256()));
  Value ls = Value::Array();
  for (const nv1::ListenerFacts& l : f.listeners()) {
    Value v = Value::Object();
    v.Set("name", Value::Str(l.name()));
    v.Set("address", Value::Str(l.address()));
    v.Set("transport", Value::Str(l.transport()));
    v.Set("note", Value::Str(l.note()));
    ls.Push(std::move(v));
  }
  doc.Set("listeners", std::move(ls));
  Value al = Value::Object();
  al.Set("verified", Value::Bool(f.audit_log().verified()));
  al.Set("records", U(f.audit_log().records()));
  al.Set("head_seq", U(f.audit_log().head_seq()));
  al.Set("head_hash", Value::Str(HexOf(f.audit_log().head_hash())));
  al.Set("finding", Value::Str(f.audit_log().finding()));
  if (!f.audit_log().error().empty()) {
    al.Set("error", Value::Str(f.audit_log().error()));
  }
  doc.Set("audit_log", std::move(al));
  doc.Set("tpm", Value::Bool(f.tpm()));
  if (!f.tpm()) doc.Set("tpm_absent_reason", Value::Str(f.tpm_absent_reason()));
  Value pcrs = Value::Array();
  for (uint32_t p : f.quoted_pcrs()) pcrs.Push(U(p));
  doc.Set("quoted_pcrs", std::move(pcrs));
  return compliance::json::Pretty(doc);
}

class VectlFrontEnd final : public compliance::EvidenceFrontEnd {
 public:
  VectlFrontEnd(std::ostream& out, std::ostream& err, Env& env)
      : ctx_{out, err,   env, "evidence export", {},
             {},  false, "",  kNodeTimeout,      {}} {}

  std::vector<std::string> ValueOptions() const override {
    return {"--admin-socket", "--node",        "--from",
            "--fee",          "--vectl-home",  "--passphrase-file",
            "--ledger-key",   "--measurements"};
  }
  std::vector<std::string> FlagOptions() const override { return {}; }
  std::string Usage() const override { return kFrontEndUsage; }
  bool IsUsageError(const absl::Status& s) const override {
    return cli::IsUsageError(s);
  }

  absl::StatusOr<compliance::NodeExport> PrepareExport(
      const compliance::CommandOptions& a, compliance::ExportOptions& o,
      std::ostream& err) override {
    for (const char* verify_only : {"--ledger-key", "--measurements"}) {
      if (a.Get(verify_only).has_value()) {
        return UsageError(absl::StrCat(verify_only, " is a verify option"));
      }
    }
    const std::optional<std::string> socket = a.Get("--admin-socket");
    if (!socket.has_value()) {
      for (const char* needs_node :
           {"--node", "--from", "--fee", "--vectl-home", "--passphrase-file"}) {
        if (a.Get(needs_node).has_value()) {
          return UsageError(absl::StrCat(
              needs_node, " needs --admin-socket (an export against a node)"));
        }
      }
      o.quote_absent_reason =
          "no TPM quote: offline export (no --admin-socket), the node was "
          "not asked (not attested)";
      o.receipt_absent_reason =
          "no ledger receipt: offline export (no --admin-socket and --from)";
      o.checks.audit_anchor_unavailable =
          "offline export: the audit head was not anchored in the ledger "
          "(export with --admin-socket and --from)";
      return compliance::NodeExport();
    }
    if (absl::Status s = ValidateAdminSocketPath("--admin-socket", *socket);
        !s.ok()) {
      return UsageError(s);
    }
    std::string node_addr = kDefaultNode;
    if (const auto n = a.Get("--node"); n.has_value()) {
      node_addr = *n;
    } else if (auto it = ctx_.env.vars.find("VECTL_NODE");
               it != ctx_.env.vars.end()) {
      node_addr = it->second;
    }
    if (absl::Status s = ValidateNodeAddress("--node", node_addr); !s.ok()) {
      return UsageError(s);
    }
    ctx_.node = node_addr;
    const std::optional<std::string> from = a.Get("--from");
    std::optional<TxFlags> tx_flags;
    if (from.has_value()) {
      if (absl::Status s = keys::ValidateKeyName(*from); !s.ok()) {
        return UsageError(Prefixed("--from", s));
      }
      absl::StatusOr<bank::v1::Coin> fee =
          ParseCoin("--fee", a.Get("--fee").value_or(kDefaultFee));
      if (!fee.ok()) return UsageError(fee.status());
      TxFlags f;
      f.fee = *std::move(fee);
      f.wait = true;
      tx_flags = std::move(f);
      if (const auto h = a.Get("--vectl-home"); h.has_value()) {
        ctx_.flags["home"] = *h;
      }
      if (const auto p = a.Get("--passphrase-file"); p.has_value()) {
        ctx_.flags["passphrase-file"] = *p;
      }
    } else {
      for (const char* needs_from :
           {"--fee", "--vectl-home", "--passphrase-file"}) {
        if (a.Get(needs_from).has_value()) {
          return UsageError(absl::StrCat(needs_from, " needs --from KEY"));
        }
      }
    }

    // 1. What only the running node knows.
    err << "[0/7] node facts from " << *socket << "\n";
    auto admin = std::make_shared<AdminEvidenceClient>(*socket);
    absl::StatusOr<nv1::EvidenceFactsResponse> facts = admin->Facts();
    if (!facts.ok()) return facts.status();
    absl::StatusOr<crypto::Ed25519PublicKey> node_key =
        crypto::Ed25519PublicKey::FromBytes(
            crypto::AsBytes(facts->node_public_key()));
    if (!node_key.ok()) {
      return absl::DataLossError(
          absl::StrCat("the node reported no valid node key: ",
                       node_key.status().message()));
    }
    const std::string key_hex = HexOf(facts->node_public_key());
    o.checks.loaded_seccomp_sha256["ve-node"] =
        facts->seccomp().loaded_policy_sha256().empty()
            ? absl::StrCat("(none: no filter loaded, seccomp mode ",
                           facts->seccomp().mode(), ")")
            : facts->seccomp().loaded_policy_sha256();
    if (facts->seccomp().proc_status_seccomp() >= 0) {
      o.checks.reported_seccomp_mode["ve-node"] =
          facts->seccomp().proc_status_seccomp();
    }
    for (compliance::checks::Daemon& d : o.checks.daemons) {
      if (d.name == "ve-node" && d.pids.empty()) {
        d.pids.push_back(static_cast<int>(facts->pid()));
      }
    }
    o.checks.node_crypto_policy_sha256 = facts->crypto_policy_sha256();
    std::vector<compliance::checks::Listener> listeners;
    for (const nv1::ListenerFacts& l : facts->listeners()) {
      listeners.push_back(compliance::checks::Listener{
          l.name(), l.address(), l.transport(), l.note()});
    }
    o.checks.listeners = std::move(listeners);
    o.extra_files.push_back(
        compliance::bundle::File{kNodeFactsFile, FactsJson(*facts, *socket)});
    err << "      node key " << key_hex << ", pid " << facts->pid()
        << ", seccomp " << facts->seccomp().proc_status_seccomp() << ", TPM "
        << (facts->tpm() ? "yes" : "NO") << "\n";

    // 2. The measurements in force: what the quote is checked against.
    NodeClient client(node_addr, kNodeTimeout);
    absl::StatusOr<nv1::QueryResponse> q =
        client.Query("gov", "measurements",
                     gov::v1::QueryMeasurementsRequest().SerializeAsString(),
                     /*consistent=*/true);
    if (!q.ok()) {
      return Prefixed(absl::StrCat("Query gov/measurements from ", node_addr),
                      q.status());
    }
    gov::v1::QueryMeasurementsResponse measurements;
    if (!measurements.ParseFromString(q->response())) {
      return absl::DataLossError(
          "Query gov/measurements: the answer is not a "
          "QueryMeasurementsResponse");
    }
    o.extra_files.push_back(compliance::bundle::File{
        kMeasurementsFile, MeasurementsToJson(measurements, q->height())});
    err << "      " << measurements.measurements_size()
        << " measurement(s) from governance at height " << q->height() << "\n";

    compliance::NodeExport node;
    node.signer = std::make_unique<NodeStatementSigner>(admin, *node_key);
    if (facts->tpm()) {
      node.quote_provider =
          std::make_unique<NodeQuoteProvider>(admin, facts->node_public_key());
    } else {
      o.quote_absent_reason =
          absl::StrCat("no TPM quote: ", facts->tpm_absent_reason());
    }

    // 3. Ledger anchors: the node's audit-log head now, the bundle digest
    // once it is signed.
    if (!tx_flags.has_value()) {
      o.receipt_absent_reason =
          "no ledger receipt: no --from key was given to sign the anchoring "
          "transaction";
      o.checks.audit_anchor_unavailable =
          "no --from key was given to anchor the audit head in the ledger";
      return node;
    }
    auto recorder = std::make_shared<AuditRecorder>(&ctx_, *from, *tx_flags);
    const nv1::AuditLogFacts& al = facts->audit_log();
    if (!al.verified() || al.records() == 0 || al.head_hash().size() != 32) {
      o.checks.audit_anchor_unavailable =
          absl::StrCat("the node's audit log ",
                       al.records() == 0 ? "is empty" : "does not verify", " (",
                       al.finding(), al.error().empty() ? "" : ": ", al.error(),
                       "): its head was not anchored");
    } else {
      err << "      anchoring the audit-log head (seq " << al.head_seq()
          << ") in the ledger\n";
      absl::StatusOr<AuditRecorder::Recorded> r =
          recorder->Record(kAuditHeadKind,
                           absl::StrCat("ve-node ", key_hex,
                                        " audit log head seq ", al.head_seq()),
                           al.head_hash());
      if (!r.ok()) return Prefixed("anchoring the audit-log head", r.status());
      security::audit::Anchor anchor;
      anchor.seq = al.head_seq();
      std::copy(al.head_hash().begin(), al.head_hash().end(),
                anchor.hash.begin());
      o.checks.audit_anchor = anchor;
      o.checks.audit_anchor_note = absl::StrCat(
          "MsgRecordAudit ", kAuditHeadKind, " in tx ", r->tx_hash_hex,
          " at height ", r->height, ", receipt ", kAuditAnchorReceipt);
      o.checks.audit_anchor_files = {
          compliance::checks::EvidenceFile{kAuditAnchorReceipt,
                                           r->record.receipt},
          compliance::checks::EvidenceFile{kAuditAnchorTx, r->record.tx}};
    }
    node.ledger_anchor = std::make_unique<BundleAnchor>(
        recorder, absl::StrCat("compliance evidence bundle of node ", key_hex));
    return node;
  }

  absl::StatusOr<compliance::BundleVerifiers> PrepareVerify(
      const compliance::CommandOptions& a, const std::string& bundle_path,
      const crypto::Ed25519PublicKey& trusted_key) override {
    for (const char* export_only :
         {"--admin-socket", "--node", "--from", "--fee", "--vectl-home",
          "--passphrase-file"}) {
      if (a.Get(export_only).has_value()) {
        return UsageError(absl::StrCat(
            export_only, " is an export option; verify works offline"));
      }
    }
    std::vector<std::string> trusted = {
        std::string(crypto::AsChars(trusted_key.view()))};
    for (const std::string& k : a.All("--ledger-key")) {
      absl::StatusOr<std::string> key = ParseNodeKeyHex("--ledger-key", k);
      if (!key.ok()) return UsageError(key.status());
      trusted.push_back(*std::move(key));
    }
    std::optional<std::string> allowlist;
    if (const auto m = a.Get("--measurements"); m.has_value()) {
      absl::StatusOr<std::string> text = ReadUserFile(
          "--measurements", ctx_.env.cwd, *m, kMaxMeasurementsJsonBytes);
      if (!text.ok()) return UsageError(text.status());
      allowlist = *std::move(text);
    }
    compliance::BundleVerifiers v;
    v.quote = std::make_unique<EvidenceQuoteVerifier>(bundle_path, trusted_key,
                                                      std::move(allowlist));
    v.receipt = std::make_unique<LedgerReceiptVerifier>(std::move(trusted));
    return v;
  }

 private:
  Context ctx_;
};

}  // namespace

int RunEvidence(const std::vector<std::string>& args, std::ostream& out,
                std::ostream& err, Env& env) {
  std::vector<const char*> argv;
  argv.reserve(args.size() + 1);
  argv.push_back("vectl evidence");
  for (const std::string& a : args) argv.push_back(a.c_str());
  VectlFrontEnd front_end(out, err, env);
  return compliance::EvidenceMain(static_cast<int>(argv.size()), argv.data(),
                                  out, err, &front_end);
}

}  // namespace virtengine::cli
