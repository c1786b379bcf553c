// vectl evidence: the compliance evidence tool (compliance/evidence_cli.h)
// wired to a running node (docs/compliance/README.md):
//
//   vectl evidence export --out PATH --admin-socket PATH [--node ADDR]
//       [--from KEY] [tool options...]
//   vectl evidence verify PATH --key HEX [--ledger-key HEX]...
//       [--measurements FILE] [--require-quote] [--require-receipt]
//
// Export asks the node (admin API, its Unix socket) for the facts only it
// knows, its TPM quote over the bundle digest and its signature of the
// statement with the node key; the allowlist of measurements in force
// (governance) goes into the bundle; with --from, the bundle digest and the
// node's audit-log head are recorded in the ledger (MsgRecordAudit) and the
// receipts kept. Verify checks everything offline: signature, hashes, the
// quote against the bundle's allowlist (or --measurements) and the node key,
// the receipt against the node key (or --ledger-key) and the digest its
// transaction records.
#ifndef VIRTENGINE_SRC_CLI_EVIDENCE_H_
#define VIRTENGINE_SRC_CLI_EVIDENCE_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "compliance/bundle/bundle.h"
#include "security/attest/verifier.h"
#include "security/crypto/ed25519.h"
#include "src/api/gov/v1/gov.pb.h"
#include "src/cli/vectl.h"

namespace virtengine::cli {

// Files an export against a node adds to the bundle (in the manifest).
inline constexpr char kMeasurementsFile[] = "evidence/measurements.json";
inline constexpr char kNodeFactsFile[] = "evidence/node-facts.json";
inline constexpr char kAuditAnchorReceipt[] =
    "evidence/audit-anchor/receipt.json";
inline constexpr char kAuditAnchorTx[] = "evidence/audit-anchor/tx.bin";
// attestation/quote.bin holds a serialised virtengine.attest.v1.Evidence.
inline constexpr char kQuoteFormat[] = "virtengine-attest-evidence-v1";
// Audit record kinds of the anchoring transactions (MsgRecordAudit).
inline constexpr char kBundleAuditKind[] = "compliance.bundle";
inline constexpr char kAuditHeadKind[] = "node.audit_log_head";
inline constexpr size_t kMaxMeasurementsJsonBytes = 1024 * 1024;
inline constexpr size_t kMaxQuoteBytes = 64 * 1024;

// `vectl evidence ...`; `args` without the leading "evidence".
int RunEvidence(const std::vector<std::string>& args, std::ostream& out,
                std::ostream& err, Env& env);

// The allowlist file: the layout of `vectl measurement list --output json`
// ({"height":N,"measurements":[{"name","version","values":[{"pcr","sha256"}],
// "added_height","retired_height","retired","proposal_id"}]}).
std::string MeasurementsToJson(const gov::v1::QueryMeasurementsResponse& m,
                               uint64_t height);
// Parses that layout (at most kMaxMeasurementsJsonBytes; unknown members are
// ignored) into the verifier's allowlist, retired entries flagged.
// InvalidArgument naming the entry.
absl::StatusOr<std::vector<attest::Measurement>> MeasurementsFromJson(
    std::string_view json);

// Checks attestation/quote.bin: a virtengine.attest.v1.Evidence for purpose
// "evidence", bound to `node_key` (the key the bundle is trusted with),
// whose nonce is the bundle digest, verified by attestation::VerifyEvidence
// against the allowlist: `allowlist_json` when given, else the bundle's
// evidence/measurements.json (read when Verify runs, after the bundle's
// hashes were checked).
class EvidenceQuoteVerifier final : public compliance::bundle::QuoteVerifier {
 public:
  EvidenceQuoteVerifier(std::string bundle_path,
                        crypto::Ed25519PublicKey node_key,
                        std::optional<std::string> allowlist_json);
  absl::StatusOr<std::string> Verify(
      std::string_view quote,
      const compliance::bundle::Digest& nonce) const override;

 private:
  std::string bundle_path_;
  crypto::Ed25519PublicKey node_key_;
  std::optional<std::string> allowlist_json_;
};

// Checks ledger/receipt.json and ledger/tx.bin: the receipt parses (receipt
// JSON), its header is signed by one of `trusted_keys` (32 raw bytes each)
// and proves the transaction's inclusion (ledger::VerifyReceipt); the
// transaction's SHA-256 is the receipt's tx hash, and it holds a
// MsgRecordAudit of kind `kind` whose digest is the expected one.
class LedgerReceiptVerifier final : public compliance::bundle::ReceiptVerifier {
 public:
  explicit LedgerReceiptVerifier(std::vector<std::string> trusted_keys,
                                 std::string kind = kBundleAuditKind);
  absl::StatusOr<std::string> Verify(
      std::string_view receipt, std::string_view tx,
      const compliance::bundle::Digest& digest) const override;

 private:
  std::vector<std::string> trusted_keys_;
  std::string kind_;
};

}  // namespace virtengine::cli

#endif  // VIRTENGINE_SRC_CLI_EVIDENCE_H_
