// ve-evidence: export, verify and diff compliance evidence bundles. A
// library so that vectl can expose it as `vectl evidence ...`.
//
//   ve-evidence export --out PATH [--profile ID] [options]
//   ve-evidence verify PATH --key HEX [--require-quote] [--require-receipt]
//   ve-evidence diff OLD NEW
//
// Exit codes: 0 ok; 1 runtime error, verification failure, or (diff) some
// control got worse; 2 usage error. Progress goes to `err`, results to
// `out`. Options: docs/compliance/README.md.
#ifndef VIRTENGINE_COMPLIANCE_EVIDENCE_CLI_H_
#define VIRTENGINE_COMPLIANCE_EVIDENCE_CLI_H_

#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "compliance/bundle/bundle.h"
#include "compliance/export.h"
#include "security/crypto/ed25519.h"

namespace virtengine::compliance {

// The options of one command line: "--name" -> values, and flags.
struct CommandOptions {
  std::vector<std::string> positional;
  std::multimap<std::string, std::string> values;
  std::vector<std::string> flags;

  std::optional<std::string> Get(const std::string& name) const;
  std::vector<std::string> All(const std::string& name) const;
  bool Flag(const std::string& name) const;
};

// What a front end adds to an export: the node's signer, quote and ledger
// anchor (owned here; ExportOptions points to the last two).
struct NodeExport {
  std::unique_ptr<bundle::StatementSigner> signer;  // null: a local key
  std::unique_ptr<bundle::QuoteProvider> quote_provider;
  std::unique_ptr<bundle::LedgerAnchor> ledger_anchor;
};

// What a front end adds to a verification.
struct BundleVerifiers {
  std::unique_ptr<bundle::QuoteVerifier> quote;
  std::unique_ptr<bundle::ReceiptVerifier> receipt;
};

// A front end (vectl) that knows how to reach a running node and to check
// quotes and receipts; the tool alone (ve-evidence) has none.
class EvidenceFrontEnd {
 public:
  virtual ~EvidenceFrontEnd() = default;
  // Extra options with a value ("--node") and flags, and their usage text.
  virtual std::vector<std::string> ValueOptions() const = 0;
  virtual std::vector<std::string> FlagOptions() const = 0;
  virtual std::string Usage() const = 0;
  // Called by export before the bundle is built: completes `options`
  // (checks context, extra files, absent reasons) and returns the node's
  // signer, quote provider and anchor (any of them may be null).
  virtual absl::StatusOr<NodeExport> PrepareExport(const CommandOptions& args,
                                                   ExportOptions& options,
                                                   std::ostream& err) = 0;
  // Called by verify after the command line was checked.
  virtual absl::StatusOr<BundleVerifiers> PrepareVerify(
      const CommandOptions& args, const std::string& bundle_path,
      const crypto::Ed25519PublicKey& trusted_key) = 0;
  // Whether an error of the two calls above is a usage error (exit 2).
  virtual bool IsUsageError(const absl::Status& status) const = 0;
};

int EvidenceMain(int argc, const char* const* argv, std::ostream& out,
                 std::ostream& err, EvidenceFrontEnd* front_end = nullptr);

}  // namespace virtengine::compliance

#endif  // VIRTENGINE_COMPLIANCE_EVIDENCE_CLI_H_
