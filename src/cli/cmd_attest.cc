// vectl attest quote|verify: a node's TPM quote and its offline check
// (docs/security/attestation.md). The evidence travels as the protobuf JSON
// mapping of virtengine.attest.v1.Evidence (byte fields in base64).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "security/crypto/random.h"
#include "src/api/attest/v1/attest.pb.h"
#include "src/api/gov/v1/gov.pb.h"
#include "src/attest/evidence.h"
#include "src/cli/command.h"
#include "src/cli/files.h"
#include "src/cli/gov_inputs.h"
#include "src/cli/json.h"
#include "src/cli/node_client.h"
#include "src/common/encoding/hex.h"
#include "src/modules/gov/gov.h"

namespace virtengine::cli {
namespace {

constexpr size_t kMaxEvidenceFileBytes = size_t{256} * 1024;
constexpr size_t kMaxNonceHexBytes = 2 * attestation::kMaxNonceBytes;

std::string Hex(std::string_view b) { return encoding::HexEncode(b); }

absl::StatusOr<std::string> NonceFlag(const Context& ctx) {
  std::optional<std::string> hex = ctx.Flag("nonce");
  if (!hex.has_value()) return std::string();
  if (hex->empty() || hex->size() > kMaxNonceHexBytes) {
    return UsageError("--nonce: 1..64 bytes as lowercase hex");
  }
  absl::StatusOr<std::vector<uint8_t>> b =
      encoding::HexDecode(*hex, attestation::kMaxNonceBytes);
  if (!b.ok()) return UsageError(Prefixed("--nonce", b.status()));
  return std::string(b->begin(), b->end());
}

absl::StatusOr<std::string> PurposeFlag(const Context& ctx) {
  const std::string p =
      ctx.Flag("purpose").value_or(std::string(attestation::kPurposeQuote));
  if (p != attestation::kPurposeJoin && p != attestation::kPurposeQuote &&
      p != attestation::kPurposeEvidence) {
    return UsageError("--purpose: join, quote or evidence");
  }
  return p;
}

void PrintSummary(std::ostream& out, const attest::v1::Evidence& e) {
  out << "purpose: " << TextSafe(e.purpose()) << "\n"
      << "nonce: " << Hex(e.nonce()) << "\n"
      << "node_public_key: " << Hex(e.node_public_key()) << "\n"
      << "ek_certificate: "
      << (e.ek_certificate().empty()
              ? std::string("none")
              : absl::StrCat(e.ek_certificate().size(), " bytes"))
      << "\n";
  for (const attest::v1::PcrValue& p : e.pcrs()) {
    out << "pcr " << p.pcr() << ": " << Hex(p.sha256()) << "\n";
  }
}

// The approved measurements: the one an image manifest names (--manifest),
// else those the node's committed state has.
absl::StatusOr<std::vector<attest::Measurement>> Allowlist(Context& ctx) {
  if (std::optional<std::string> path = ctx.Flag("manifest")) {
    absl::StatusOr<std::string> file =
        ReadUserFile("--manifest", ctx.env.cwd, *path, kMaxManifestBytes);
    if (!file.ok()) return file.status();
    absl::StatusOr<gov::v1::Measurement> m =
        MeasurementFromManifest("--manifest", *file);
    if (!m.ok()) return UsageError(m.status());
    absl::StatusOr<attest::Measurement> e = gov::ToAllowlistEntry(*m);
    if (!e.ok()) return e.status();
    return std::vector<attest::Measurement>{*std::move(e)};
  }
  NodeClient client(ctx.node, ctx.timeout);
  absl::StatusOr<node::v1::QueryResponse> r =
      client.Query("gov", "measurements", "", false);
  if (!r.ok()) {
    return Prefixed(absl::StrCat("measurements from ", ctx.node), r.status());
  }
  gov::v1::QueryMeasurementsResponse ms;
  if (!ms.ParseFromString(r->response())) {
    return absl::DataLossError("measurements: undecodable response");
  }
  std::vector<attest::Measurement> out;
  for (const gov::v1::Measurement& m : ms.measurements()) {
    absl::StatusOr<attest::Measurement> e = gov::ToAllowlistEntry(m);
    if (!e.ok()) return e.status();
    out.push_back(*std::move(e));
  }
  return out;
}

}  // namespace

absl::Status RunAttestQuote(Context& ctx) {
  absl::StatusOr<std::string> nonce = NonceFlag(ctx);
  if (!nonce.ok()) return nonce.status();
  absl::StatusOr<std::string> purpose = PurposeFlag(ctx);
  if (!purpose.ok()) return purpose.status();
  if (nonce->empty()) {
    const crypto::Bytes fresh = crypto::RandomBytes(32);
    nonce->assign(fresh.begin(), fresh.end());
  }
  NodeClient client(ctx.node, ctx.timeout);
  absl::StatusOr<attest::v1::Evidence> e = client.Quote(*purpose, *nonce);
  if (!e.ok())
    return Prefixed(absl::StrCat("Quote from ", ctx.node), e.status());
  if (ctx.json) {
    std::string json;
    google::protobuf::util::JsonPrintOptions o;
    o.preserve_proto_field_names = true;
    if (!google::protobuf::util::MessageToJsonString(*e, &json, o).ok()) {
      return absl::InternalError("evidence: cannot encode as JSON");
    }
    ctx.out << json << "\n";
    return absl::OkStatus();
  }
  PrintSummary(ctx.out, *e);
  ctx.out << "(save the evidence with --output json; check it with 'vectl "
             "attest verify FILE --nonce "
          << Hex(*nonce) << "')\n";
  return absl::OkStatus();
}

absl::Status RunAttestVerify(Context& ctx) {
  absl::StatusOr<std::string> nonce = NonceFlag(ctx);
  if (!nonce.ok()) return nonce.status();
  absl::StatusOr<std::string> purpose = PurposeFlag(ctx);
  if (!purpose.ok()) return purpose.status();
  absl::StatusOr<std::string> text =
      ReadUserFile("FILE", ctx.env.cwd, ctx.args[0], kMaxEvidenceFileBytes);
  if (!text.ok()) return text.status();
  attest::v1::Evidence e;
  google::protobuf::util::JsonParseOptions po;
  po.ignore_unknown_fields = false;
  if (auto s = google::protobuf::util::JsonStringToMessage(*text, &e, po);
      !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "FILE: not an evidence JSON document: ", std::string(s.message())));
  }
  if (absl::Status s = attestation::ValidateEvidence(e); !s.ok()) return s;
  const bool fresh = !nonce->empty();
  if (!fresh) *nonce = e.nonce();
  absl::StatusOr<std::vector<attest::Measurement>> allowlist = Allowlist(ctx);
  if (!allowlist.ok()) return allowlist.status();
  absl::StatusOr<attestation::VerifiedEvidence> v = attestation::VerifyEvidence(
      e, *purpose, crypto::AsBytes(*nonce), *allowlist);
  if (!v.ok()) {
    return absl::Status(v.status().code(), absl::StrCat("attestation refused: ",
                                                        v.status().message()));
  }
  if (ctx.json) {
    JsonWriter w;
    w.BeginObject()
        .Key("ok")
        .Bool(true)
        .Key("measurement_name")
        .String(v->quote.measurement_name)
        .Key("measurement_version")
        .String(v->quote.measurement_version)
        .Key("node_public_key")
        .String(Hex(e.node_public_key()))
        .Key("nonce_checked")
        .Bool(fresh)
        .EndObject();
    ctx.out << w.str() << "\n";
    return absl::OkStatus();
  }
  ctx.out << "ok: measurement " << TextSafe(v->quote.measurement_name) << " "
          << TextSafe(v->quote.measurement_version) << "\n";
  PrintSummary(ctx.out, e);
  if (!fresh) {
    ctx.err << "warning: no --nonce given: the quote is genuine and "
               "approved, but its freshness was not checked\n";
  }
  return absl::OkStatus();
}

}  // namespace virtengine::cli
