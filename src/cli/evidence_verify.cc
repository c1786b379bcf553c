// vectl evidence: the measurement allowlist file and the offline quote and
// receipt verifiers (evidence.h).
#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "compliance/json/json.h"
#include "security/crypto/hash.h"
#include "security/path/path.h"
#include "src/api/attest/v1/attest.pb.h"
#include "src/api/audit/v1/audit.pb.h"
#include "src/api/ledger/v1/ledger.pb.h"
#include "src/attest/evidence.h"
#include "src/cli/evidence.h"
#include "src/cli/receipt_json.h"
#include "src/common/encoding/hex.h"
#include "src/ledger/chain/ledger.h"
#include "src/ledger/tx/tx.h"
#include "src/modules/gov/gov.h"

namespace virtengine::cli {

namespace {

using compliance::json::Value;
namespace gv1 = ::virtengine::gov::v1;

constexpr char kRecordAuditTypeUrl[] = "/virtengine.audit.v1.MsgRecordAudit";

std::string HexOf(std::string_view bytes) {
  return encoding::HexEncode(absl::Span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

std::string HexOf(const compliance::bundle::Digest& d) {
  return encoding::HexEncode(absl::Span<const uint8_t>(d.data(), d.size()));
}

Value U(uint64_t n) { return Value::NumberText(absl::StrCat(n)); }

// A JSON integer member (no sign, fraction or exponent).
absl::StatusOr<uint64_t> UintMember(const Value& obj, std::string_view key,
                                    const std::string& where) {
  const Value* v = obj.Find(key);
  uint64_t n = 0;
  if (v == nullptr || v->type() != Value::Type::kNumber ||
      !absl::SimpleAtoi(v->str(), &n) ||
      v->str().find_first_not_of("0123456789") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ".", std::string(key), ": want an unsigned integer"));
  }
  return n;
}

// ReceiptFromJson and VerifyReceipt say "receipt: ..."; the bundle verifier
// adds that prefix itself (as for "quote: ").
absl::Status Unprefixed(const absl::Status& s) {
  absl::string_view m = s.message();
  absl::ConsumePrefix(&m, "receipt: ");
  return absl::Status(s.code(), m);
}

}  // namespace

std::string MeasurementsToJson(const gv1::QueryMeasurementsResponse& m,
                               uint64_t height) {
  Value doc = Value::Object();
  doc.Set("height", U(height));
  Value list = Value::Array();
  for (const gv1::Measurement& e : m.measurements()) {
    Value v = Value::Object();
    v.Set("name", Value::Str(e.name()));
    v.Set("version", Value::Str(e.version()));
    Value values = Value::Array();
    for (const gv1::PcrValue& p : e.values()) {
      Value pv = Value::Object();
      pv.Set("pcr", U(p.pcr()));
      pv.Set("sha256", Value::Str(HexOf(p.sha256())));
      values.Push(std::move(pv));
    }
    v.Set("values", std::move(values));
    v.Set("added_height", U(e.added_height()));
    v.Set("retired_height", U(e.retired_height()));
    v.Set("retired", Value::Bool(e.retired_height() != 0));
    v.Set("proposal_id", U(e.proposal_id()));
    list.Push(std::move(v));
  }
  doc.Set("measurements", std::move(list));
  return compliance::json::Pretty(doc);
}

absl::StatusOr<std::vector<attest::Measurement>> MeasurementsFromJson(
    std::string_view json) {
  compliance::json::Limits limits;
  limits.max_bytes = kMaxMeasurementsJsonBytes;
  limits.max_depth = 8;
  absl::StatusOr<Value> doc = compliance::json::Parse(json, limits);
  if (!doc.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("measurements: ", doc.status().message()));
  }
  const Value* list = doc->Find("measurements");
  if (list == nullptr || !list->is_array()) {
    return absl::InvalidArgumentError(
        "measurements: no \"measurements\" array");
  }
  if (list->items().size() > gov::kMaxMeasurements) {
    return absl::InvalidArgumentError(absl::StrCat(
        "measurements: more than ", gov::kMaxMeasurements, " entries"));
  }
  std::vector<attest::Measurement> out;
  for (size_t i = 0; i < list->items().size(); ++i) {
    const Value& e = list->items()[i];
    const std::string where = absl::StrCat("measurements[", i, "]");
    const std::string* name = e.FindString("name");
    const std::string* version = e.FindString("version");
    const Value* values = e.Find("values");
    if (name == nullptr || version == nullptr || values == nullptr ||
        !values->is_array()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": needs name, version and values"));
    }
    gv1::Measurement m;
    m.set_name(*name);
    m.set_version(*version);
    for (size_t j = 0; j < values->items().size() && j < 24; ++j) {
      const Value& pv = values->items()[j];
      const std::string pwhere = absl::StrCat(where, ".values[", j, "]");
      absl::StatusOr<uint64_t> pcr = UintMember(pv, "pcr", pwhere);
      if (!pcr.ok()) return pcr.status();
      const std::string* sha = pv.FindString("sha256");
      absl::StatusOr<std::vector<uint8_t>> bytes =
          sha != nullptr ? encoding::HexDecode(*sha, 32)
                         : absl::StatusOr<std::vector<uint8_t>>(
                               absl::InvalidArgumentError("missing"));
      if (!bytes.ok() || bytes->size() != 32 || *pcr > 23) {
        return absl::InvalidArgumentError(
            absl::StrCat(pwhere, ": want a pcr 0..23 and a 64-hex sha256"));
      }
      gv1::PcrValue* v = m.add_values();
      v->set_pcr(static_cast<uint32_t>(*pcr));
      v->set_sha256(std::string(bytes->begin(), bytes->end()));
    }
    bool retired = false;
    if (const Value* r = e.Find("retired");
        r != nullptr && r->type() == Value::Type::kBool) {
      retired = r->boolean();
    }
    if (e.Find("retired_height") != nullptr) {
      absl::StatusOr<uint64_t> rh = UintMember(e, "retired_height", where);
      if (!rh.ok()) return rh.status();
      retired = retired || *rh != 0;
    }
    m.set_retired_height(retired ? 1 : 0);
    absl::StatusOr<attest::Measurement> entry = gov::ToAllowlistEntry(m);
    if (!entry.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", entry.status().message()));
    }
    out.push_back(*std::move(entry));
  }
  return out;
}

EvidenceQuoteVerifier::EvidenceQuoteVerifier(
    std::string bundle_path, crypto::Ed25519PublicKey node_key,
    std::optional<std::string> allowlist_json)
    : bundle_path_(std::move(bundle_path)),
      node_key_(node_key),
      allowlist_json_(std::move(allowlist_json)) {}

absl::StatusOr<std::string> EvidenceQuoteVerifier::Verify(
    std::string_view quote, const compliance::bundle::Digest& nonce) const {
  if (quote.size() > kMaxQuoteBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(compliance::bundle::kQuoteFile, " is ", quote.size(),
                     " bytes, more than ", kMaxQuoteBytes));
  }
  attest::v1::Evidence evidence;
  if (!evidence.ParseFromString(std::string(quote))) {
    return absl::InvalidArgumentError(
        absl::StrCat(compliance::bundle::kQuoteFile,
                     " is not a virtengine.attest.v1.Evidence"));
  }
  if (evidence.purpose() != attestation::kPurposeEvidence) {
    return absl::FailedPreconditionError(
        absl::StrCat("made for purpose '", evidence.purpose().substr(0, 32),
                     "', not 'evidence'"));
  }
  const std::string node_key(crypto::AsChars(node_key_.view()));
  if (evidence.node_public_key() != node_key) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the quote is bound to node key ", HexOf(evidence.node_public_key()),
        ", not to the bundle's key ", HexOf(node_key)));
  }
  const std::string digest(reinterpret_cast<const char*>(nonce.data()),
                           nonce.size());
  if (evidence.nonce() != digest) {
    return absl::FailedPreconditionError(absl::StrCat(
        "stale quote: made for bundle digest ", HexOf(evidence.nonce()),
        ", not for this bundle's digest ", HexOf(nonce)));
  }
  std::string allowlist_text;
  std::string source;
  if (allowlist_json_.has_value()) {
    allowlist_text = *allowlist_json_;
    source = "the given --measurements";
  } else {
    absl::StatusOr<security::path::PathRoot> root =
        security::path::PathRoot::Open(bundle_path_);
    absl::StatusOr<std::string> text =
        root.ok() ? root->ReadFile(kMeasurementsFile, kMaxMeasurementsJsonBytes)
                  : absl::StatusOr<std::string>(root.status());
    if (!text.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "no measurement allowlist to check it against: ", kMeasurementsFile,
          ": ", text.status().message()));
    }
    allowlist_text = *std::move(text);
    source = kMeasurementsFile;
  }
  absl::StatusOr<std::vector<attest::Measurement>> allowlist =
      MeasurementsFromJson(allowlist_text);
  if (!allowlist.ok()) {
    return absl::Status(
        allowlist.status().code(),
        absl::StrCat(source, ": ", allowlist.status().message()));
  }
  if (allowlist->empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the allowlist (", source, ") has no measurement"));
  }
  absl::StatusOr<attestation::VerifiedEvidence> v =
      attestation::VerifyEvidence(evidence, attestation::kPurposeEvidence,
                                  crypto::AsBytes(digest), *allowlist);
  if (!v.ok()) {
    // The bundle verifier prefixes "quote: " itself.
    absl::string_view m = v.status().message();
    absl::ConsumePrefix(&m, "quote: ");
    return absl::Status(v.status().code(), m);
  }
  return absl::StrCat("measurement ", v->quote.measurement_name, " ",
                      v->quote.measurement_version, " (", source,
                      "), nonce = bundle digest, bound to node key ",
                      HexOf(node_key));
}

LedgerReceiptVerifier::LedgerReceiptVerifier(
    std::vector<std::string> trusted_keys, std::string kind)
    : trusted_keys_(std::move(trusted_keys)), kind_(std::move(kind)) {}

absl::StatusOr<std::string> LedgerReceiptVerifier::Verify(
    std::string_view receipt_json, std::string_view tx,
    const compliance::bundle::Digest& digest) const {
  absl::StatusOr<ledger::v1::Receipt> receipt = ReceiptFromJson(receipt_json);
  if (!receipt.ok()) return Unprefixed(receipt.status());
  ledger::v1::BlockHeader header;
  if (!header.ParseFromString(receipt->header().header_bytes())) {
    return absl::InvalidArgumentError("header_bytes is not a BlockHeader");
  }
  if (std::find(trusted_keys_.begin(), trusted_keys_.end(),
                header.proposer()) == trusted_keys_.end()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the header is signed by ", HexOf(header.proposer()),
        ", which is not a trusted key (the bundle's node key, or give "
        "--ledger-key HEX)"));
  }
  if (absl::Status s = ledger::VerifyReceipt(*receipt, header.proposer());
      !s.ok()) {
    return Unprefixed(s);
  }
  if (tx.size() > compliance::bundle::kMaxTxBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(compliance::bundle::kTxFile, " is too long"));
  }
  absl::StatusOr<ledger::DecodedTx> decoded = ledger::DecodeTx(tx);
  if (!decoded.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        compliance::bundle::kTxFile, ": ", decoded.status().message()));
  }
  const std::string tx_hash(reinterpret_cast<const char*>(decoded->hash.data()),
                            decoded->hash.size());
  if (tx_hash != receipt->tx_hash()) {
    return absl::DataLossError(absl::StrCat(
        "hash mismatch: ", compliance::bundle::kTxFile, ": its SHA-256 is ",
        HexOf(tx_hash), ", the receipt proves tx ", HexOf(receipt->tx_hash())));
  }
  const std::string want(reinterpret_cast<const char*>(digest.data()),
                         digest.size());
  std::vector<std::string> recorded;
  for (const google::protobuf::Any& m : decoded->body.messages()) {
    if (m.type_url() != kRecordAuditTypeUrl) continue;
    audit::v1::MsgRecordAudit msg;
    if (!msg.ParseFromString(m.value()) || msg.kind() != kind_) continue;
    if (msg.digest() == want) {
      return absl::StrCat("audit event ", kind_, " in tx ", HexOf(tx_hash),
                          ", leaf ", receipt->leaf_index(), " of ",
                          receipt->tree_size(), " at height ", header.height(),
                          " of chain ", header.chain_id(),
                          ", header signed by ", HexOf(header.proposer()));
    }
    recorded.push_back(HexOf(msg.digest()));
  }
  if (recorded.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the anchored transaction ", HexOf(tx_hash),
                     " holds no MsgRecordAudit of kind ", kind_));
  }
  return absl::FailedPreconditionError(
      absl::StrCat("stale receipt: the anchored transaction records digest ",
                   recorded[0], ", not this bundle's digest ", HexOf(digest)));
}

}  // namespace virtengine::cli
