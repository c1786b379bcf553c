#include "src/modules/audit/audit.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "security/crypto/hash.h"
#include "src/api/audit/v1/audit.pb.h"
#include "src/common/encoding/big_endian.h"

namespace virtengine::audit {

namespace {

constexpr char kHeadKey[] = "head";
constexpr char kRecordPrefix[] = "rec/";
constexpr size_t kHeadBytes = 32;

std::string HeadBytes(const Head& h) {
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}

// Appends `r` (seq and height already set) to the chain in `store`.
absl::StatusOr<Head> Append(ledger::PrefixView& store, const Record& r,
                            ledger::EventSink* events) {
  absl::StatusOr<ChainState> chain = ReadChain(store);
  if (!chain.ok()) return chain.status();
  if (r.seq != chain->count + 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "audit: record seq ", r.seq, " does not follow ", chain->count));
  }
  const std::string bytes = EncodeRecord(r);
  absl::StatusOr<Head> head = ChainHead(chain->head, bytes);
  if (!head.ok()) return head.status();
  store.Put(absl::StrCat(kRecordPrefix, encoding::BigEndian64(r.seq)),
            HeadBytes(*head) + bytes);
  store.Put(kHeadKey, encoding::BigEndian64(r.seq) + HeadBytes(*head));
  if (events != nullptr) {
    v1::EventAuditRecorded ev;
    ev.set_seq(r.seq);
    ev.set_kind(r.kind);
    ev.set_subject(r.subject);
    ev.set_actor(r.actor);
    ev.set_digest(r.digest);
    ev.set_head(HeadBytes(*head));
    events->Emit(ev);
  }
  return head;
}

absl::StatusOr<uint64_t> RecordAt(ledger::Context& ctx, Record r) {
  if (absl::Status s = ValidateRecord("audit record", r); !s.ok()) return s;
  absl::StatusOr<ChainState> chain = ReadChain(ctx.store());
  if (!chain.ok()) return chain.status();
  r.seq = chain->count + 1;
  r.height = ctx.height();
  if (absl::StatusOr<Head> h = Append(ctx.store(), r, &ctx.events()); !h.ok()) {
    return h.status();
  }
  return r.seq;
}

class Sink final : public AuditSink {
 public:
  explicit Sink(ledger::Context& ctx) : ctx_(ctx) {}
  absl::StatusOr<uint64_t> Record(std::string_view kind,
                                  std::string_view subject,
                                  std::string_view actor,
                                  std::string_view digest,
                                  const Details& details) override {
    audit::Record r;
    r.kind = std::string(kind);
    r.subject = std::string(subject);
    r.actor = std::string(actor);
    r.digest = std::string(digest);
    r.details = details;
    return RecordAt(ctx_, std::move(r));
  }

 private:
  ledger::Context& ctx_;
};

// Visits the stored records in seq order, checking that they run 1, 2, ...
// and recomputing the chain. `fn` may be null.
absl::StatusOr<ChainState> Walk(
    const ledger::PrefixView& store,
    const std::function<void(const Record&, std::string_view, const Head&)>&
        fn) {
  ChainState state;
  absl::Status err;
  absl::Status s =
      store.Scan(kRecordPrefix, [&](std::string_view k, std::string_view v) {
        const std::string_view seq_bytes = k.substr(sizeof(kRecordPrefix) - 1);
        if (seq_bytes.size() != 8 ||
            encoding::ReadBigEndian64(seq_bytes) != state.count + 1) {
          err = absl::InternalError(
              absl::StrCat("audit: invariant broken: record after seq ",
                           state.count, " is not seq ", state.count + 1));
          return false;
        }
        if (v.size() < kHeadBytes) {
          err = absl::DataLossError(
              absl::StrCat("audit: corrupt stored record ", state.count + 1));
          return false;
        }
        const std::string_view stored_head = v.substr(0, kHeadBytes);
        v.remove_prefix(kHeadBytes);
        absl::StatusOr<Record> r = DecodeRecord(v);
        if (!r.ok()) {
          err = r.status();
          return false;
        }
        if (r->seq != state.count + 1) {
          err = absl::InternalError(
              absl::StrCat("audit: invariant broken: record stored under seq ",
                           state.count + 1, " says seq ", r->seq));
          return false;
        }
        absl::StatusOr<Head> h = ChainHead(state.head, v);
        if (!h.ok()) {
          err = h.status();
          return false;
        }
        if (HeadBytes(*h) != stored_head) {
          err = absl::InternalError(absl::StrCat(
              "audit: invariant broken: the head stored with record ", r->seq,
              " is not the recomputed head"));
          return false;
        }
        state.head = *h;
        state.count = r->seq;
        if (fn) fn(*r, v, state.head);
        return true;
      });
  if (!s.ok()) return s;
  if (!err.ok()) return err;
  return state;
}

}  // namespace

absl::Status RecordMessage(ledger::Context& ctx, std::string_view kind,
                           std::string_view subject,
                           const google::protobuf::MessageLite& message,
                           const Details& details) {
  absl::StatusOr<AuditSink*> sink = ctx.GetKeeper<AuditSink>(kModuleName);
  if (!sink.ok()) return sink.status();
  absl::StatusOr<crypto::Digest32> digest =
      crypto::Sha256(security::crypto::v1::CONTENT_HASH,
                     crypto::AsBytes(message.SerializeAsString()));
  if (!digest.ok()) return digest.status();
  return (*sink)
      ->Record(kind, subject, ctx.signer().empty() ? "genesis" : ctx.signer(),
               std::string(reinterpret_cast<const char*>(digest->data()),
                           digest->size()),
               details)
      .status();
}

absl::StatusOr<ChainState> ReadChain(const ledger::PrefixView& store) {
  absl::StatusOr<std::optional<std::string>> v = store.Get(kHeadKey);
  if (!v.ok()) return v.status();
  ChainState state;
  if (!v->has_value()) return state;
  if ((*v)->size() != 8 + state.head.size()) {
    return absl::DataLossError("audit: corrupt chain head");
  }
  state.count = encoding::ReadBigEndian64(**v);
  std::copy((*v)->begin() + 8, (*v)->end(), state.head.begin());
  return state;
}

std::vector<ledger::MessageSpec> AuditModule::messages() const {
  // Recording costs the fee; who may anchor what can be raised through the
  // gate (a role) once the role module exists.
  return {ledger::MessageSpec{std::string(kMsgRecordAuditType), {}}};
}

absl::Status AuditModule::Handle(ledger::Context& ctx,
                                 const google::protobuf::Any& msg) const {
  v1::MsgRecordAudit m;
  if (absl::Status s =
          ledger::ParseStrict("audit: MsgRecordAudit", msg.value(), &m);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateKind("MsgRecordAudit", m.kind()); !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateSubject("MsgRecordAudit", m.subject());
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateDigest("MsgRecordAudit", m.digest()); !s.ok()) {
    return s;
  }
  Record r;
  r.kind = m.kind();
  r.subject = m.subject();
  r.actor = ctx.signer();
  r.digest = m.digest();
  return RecordAt(ctx, std::move(r)).status();
}

absl::StatusOr<std::string> AuditModule::Query(const ledger::QueryContext& ctx,
                                               std::string_view path,
                                               std::string_view request) const {
  if (path == "head") {
    v1::QueryHeadRequest req;
    if (absl::Status s =
            ledger::ParseStrict("audit: QueryHeadRequest", request, &req);
        !s.ok()) {
      return s;
    }
    absl::StatusOr<ChainState> chain = ReadChain(ctx.store());
    if (!chain.ok()) return chain.status();
    v1::QueryHeadResponse resp;
    resp.set_head(HeadBytes(chain->head));
    resp.set_seq(chain->count);
    return resp.SerializeAsString();
  }
  if (path == "record") {
    v1::QueryRecordRequest req;
    if (absl::Status s =
            ledger::ParseStrict("audit: QueryRecordRequest", request, &req);
        !s.ok()) {
      return s;
    }
    absl::StatusOr<std::optional<std::string>> v = ctx.store().Get(
        absl::StrCat(kRecordPrefix, encoding::BigEndian64(req.seq())));
    if (!v.ok()) return v.status();
    if (!v->has_value()) {
      return absl::NotFoundError(
          absl::StrCat("audit: no record with seq ", req.seq()));
    }
    if ((*v)->size() < kHeadBytes) {
      return absl::DataLossError(
          absl::StrCat("audit: corrupt stored record ", req.seq()));
    }
    const std::string bytes = (*v)->substr(kHeadBytes);
    absl::StatusOr<Record> r = DecodeRecord(bytes);
    if (!r.ok()) return r.status();
    v1::QueryRecordResponse resp;
    *resp.mutable_record() = ToProto(*r);
    resp.set_record_bytes(bytes);
    resp.set_head((*v)->substr(0, kHeadBytes));
    return resp.SerializeAsString();
  }
  return absl::NotFoundError(
      absl::StrCat("audit: unknown query path \"", std::string(path), "\""));
}

absl::Status AuditModule::InitGenesis(ledger::Context& ctx,
                                      std::string_view genesis) const {
  v1::GenesisState g;
  if (absl::Status s = ledger::ParseStrict("audit genesis", genesis, &g);
      !s.ok()) {
    return s;
  }
  for (int i = 0; i < g.records_size(); ++i) {
    absl::StatusOr<Record> r = FromProto(g.records(i));
    if (!r.ok()) return r.status();
    if (r->seq != static_cast<uint64_t>(i) + 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "audit genesis: record ", i, " has seq ", r->seq, ", want ", i + 1));
    }
    if (absl::StatusOr<Head> h = Append(ctx.store(), *r, &ctx.events());
        !h.ok()) {
      return h.status();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> AuditModule::ExportGenesis(
    const ledger::QueryContext& ctx) const {
  v1::GenesisState g;
  absl::StatusOr<ChainState> walked =
      Walk(ctx.store(), [&](const Record& r, std::string_view, const Head&) {
        *g.add_records() = ToProto(r);
      });
  if (!walked.ok()) return walked.status();
  return g.SerializeAsString();
}

absl::Status AuditModule::CheckInvariants(
    const ledger::QueryContext& ctx) const {
  absl::StatusOr<ChainState> stored = ReadChain(ctx.store());
  if (!stored.ok()) return stored.status();
  absl::StatusOr<ChainState> walked = Walk(ctx.store(), nullptr);
  if (!walked.ok()) return walked.status();
  if (walked->count != stored->count) {
    return absl::InternalError(
        absl::StrCat("audit: invariant broken: ", walked->count,
                     " records stored, head says ", stored->count));
  }
  if (walked->head != stored->head) {
    return absl::InternalError(absl::StrCat(
        "audit: invariant broken: the stored records recompute to a head "
        "other than the stored head (after ",
        walked->count, " records)"));
  }
  return absl::OkStatus();
}

std::unique_ptr<ledger::KeeperInterface> AuditModule::NewKeeper(
    ledger::Context& own) const {
  return std::make_unique<Sink>(own);
}

}  // namespace virtengine::audit
