// Fuzz target for what `vectl evidence verify` and the node's
// Admin.EvidenceSign read from untrusted bytes (src/cli/evidence.h,
// compliance/bundle/bundle.h). The first byte picks the parser:
//   0: the measurement allowlist file (MeasurementsFromJson): a parsed
//      allowlist validates and survives MeasurementsToJson unchanged;
//   1: a statement the node is asked to sign (CheckStatementForSigning):
//      accepted only when it is JSON naming the digest in both places;
//   2: attestation/quote.bin (EvidenceQuoteVerifier): accepted only for
//      purpose "evidence", the trusted key and the bundle digest;
//   3: ledger/receipt.json NUL ledger/tx.bin (LedgerReceiptVerifier):
//      accepted only when the tx's SHA-256 is the receipt's tx hash and the
//      tx records the digest.
// The constants are those of a bundle exported by
// //tests/compliance:node_evidence_test, whose files seed the corpus.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "compliance/bundle/bundle.h"
#include "compliance/json/json.h"
#include "security/attest/verifier.h"
#include "security/crypto/ed25519.h"
#include "security/crypto/hash.h"
#include "src/api/attest/v1/attest.pb.h"
#include "src/api/gov/v1/gov.pb.h"
#include "src/cli/evidence.h"
#include "src/cli/receipt_json.h"
#include "src/common/encoding/hex.h"

namespace {

namespace bundle = ::virtengine::compliance::bundle;
namespace cli = ::virtengine::cli;
namespace crypto = ::virtengine::crypto;

constexpr char kNodeKeyHex[] =
    "5772ac49682973e0b60183804d10958f1f4e72d0c69dcc2d0aaeee1e950c5474";
constexpr char kDigestHex[] =
    "8f7cc7faa00b3ab2f7b91764b35ff12522f268b79c604572c55bc2e99c86115a";
// The allowlist of that bundle (PCR 11 of the test's "image").
constexpr char kAllowlist[] =
    R"({"measurements": [{"name": "virtengine", "version": "1.0.0",
        "values": [{"pcr": 11, "sha256":
        "e9c403e7ba0d724ff342cb3a7ca7d2841bfdecded8a55b2848ee6424c456026f"}],
        "retired": false}]})";

std::string Bytes(const char* hex) {
  absl::StatusOr<std::vector<uint8_t>> b =
      virtengine::encoding::HexDecode(hex, 32);
  if (!b.ok()) std::abort();
  return std::string(b->begin(), b->end());
}

bundle::Digest TheDigest() {
  const std::string b = Bytes(kDigestHex);
  bundle::Digest d{};
  std::copy(b.begin(), b.end(), d.begin());
  return d;
}

crypto::Ed25519PublicKey TheKey() {
  absl::StatusOr<crypto::Ed25519PublicKey> k =
      crypto::Ed25519PublicKey::FromBytes(crypto::AsBytes(Bytes(kNodeKeyHex)));
  if (!k.ok()) std::abort();
  return *k;
}

void Measurements(const std::string& in) {
  absl::StatusOr<std::vector<virtengine::attest::Measurement>> m =
      cli::MeasurementsFromJson(in);
  if (!m.ok()) return;
  if (!virtengine::attest::ValidateAllowlist(*m).ok()) std::abort();
  // Re-encode through the governance form and parse again: identical.
  virtengine::gov::v1::QueryMeasurementsResponse resp;
  for (const virtengine::attest::Measurement& e : *m) {
    virtengine::gov::v1::Measurement* g = resp.add_measurements();
    g->set_name(e.name);
    g->set_version(e.version);
    g->set_retired_height(e.retired ? 1 : 0);
    for (const auto& [pcr, value] : e.pcrs) {
      virtengine::gov::v1::PcrValue* v = g->add_values();
      v->set_pcr(pcr);
      v->set_sha256(std::string(
          crypto::AsChars(crypto::ByteView(value.data(), value.size()))));
    }
  }
  absl::StatusOr<std::vector<virtengine::attest::Measurement>> again =
      cli::MeasurementsFromJson(cli::MeasurementsToJson(resp, 7));
  if (!again.ok() || again->size() != m->size()) std::abort();
  for (size_t i = 0; i < m->size(); ++i) {
    const auto& a = (*m)[i];
    const auto& b = (*again)[i];
    if (a.name != b.name || a.version != b.version || a.pcrs != b.pcrs ||
        a.retired != b.retired) {
      std::abort();
    }
  }
}

void Statement(const std::string& in) {
  if (!bundle::CheckStatementForSigning(in, TheDigest()).ok()) return;
  absl::StatusOr<virtengine::compliance::json::Value> doc =
      virtengine::compliance::json::Parse(in);
  if (!doc.ok() || in.size() > bundle::kMaxStatementBytes) std::abort();
  const virtengine::compliance::json::Value* p = doc->Find("predicate");
  if (p == nullptr || p->FindString("manifest_sha256") == nullptr ||
      *p->FindString("manifest_sha256") != kDigestHex) {
    std::abort();
  }
  if (bundle::Pae(bundle::kPayloadType, in).rfind("DSSEv1 ", 0) != 0) {
    std::abort();
  }
}

void Quote(const std::string& in) {
  const cli::EvidenceQuoteVerifier v("/nonexistent", TheKey(), kAllowlist);
  absl::StatusOr<std::string> r = v.Verify(in, TheDigest());
  if (!r.ok()) return;
  virtengine::attest::v1::Evidence e;
  if (!e.ParseFromString(in) || e.purpose() != "evidence" ||
      e.nonce() != Bytes(kDigestHex) ||
      e.node_public_key() != Bytes(kNodeKeyHex)) {
    std::abort();
  }
}

void Receipt(const std::string& in) {
  const size_t nul = in.find('\0');
  if (nul == std::string::npos) return;
  const std::string receipt = in.substr(0, nul);
  const std::string tx = in.substr(nul + 1);
  const cli::LedgerReceiptVerifier v({Bytes(kNodeKeyHex)});
  absl::StatusOr<std::string> r = v.Verify(receipt, tx, TheDigest());
  if (!r.ok()) return;
  absl::StatusOr<virtengine::ledger::v1::Receipt> parsed =
      cli::ReceiptFromJson(receipt);
  absl::StatusOr<crypto::Digest32> h = crypto::Sha256(
      ::virtengine::security::crypto::v1::CONTENT_HASH, crypto::AsBytes(tx));
  if (!parsed.ok() || !h.ok() ||
      parsed->tx_hash() != std::string(crypto::AsChars(
                               crypto::ByteView(h->data(), h->size()))) ||
      tx.find(Bytes(kDigestHex)) == std::string::npos) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > size_t{256} * 1024) return 0;
  const std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      Measurements(in);
      break;
    case 1:
      Statement(in);
      break;
    case 2:
      Quote(in);
      break;
    default:
      Receipt(in);
      break;
  }
  return 0;
}
