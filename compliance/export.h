// compliance: one call that collects every piece of evidence of a node and
// writes the signed bundle (what `ve-evidence export`, later `vectl evidence
// export`, runs). See docs/compliance/README.md.
#ifndef VIRTENGINE_COMPLIANCE_EXPORT_H_
#define VIRTENGINE_COMPLIANCE_EXPORT_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "compliance/bundle/bundle.h"
#include "compliance/checks/checks.h"
#include "compliance/scap/openscap.h"
#include "security/crypto/ed25519.h"
#include "security/exec/runner.h"

namespace virtengine::compliance {

inline constexpr char kToolVersion[] = "ve-evidence-0.1.0";

struct BinarySpec {
  std::string path;  // absolute; read through security/path and hashed
  std::string version;
  std::string commit;
  std::string builder;
};

struct ExportOptions {
  // compliance/data as installed: catalog-*.json, component-definition.json,
  // mappings/scap-references.json.
  std::string data_dir;
  // Check inputs (policy_dir, home_dir, proc_dir, daemons, ...). `now` is
  // overwritten by `clock`.
  checks::Context checks;
  // Root of the file system the SBOM describes ("/" on a node).
  std::string system_root = "/";
  std::vector<BinarySpec> binaries;
  std::string system_name = "virtengine-node";
  std::string product_version = "0.1.0";
  std::function<absl::Time()> clock;  // absl::Now when empty
  // OpenSCAP: run only when `runner` is set.
  const exec::Runner* runner = nullptr;
  scap::OpenScapRequest openscap;
  // Without a runner: why OpenSCAP was not run ("--no-openscap", "runner
  // unavailable: ..."); recorded as a not-satisfied observation.
  std::string openscap_skip_reason = "OpenSCAP was not requested";
  bundle::QuoteProvider* quote_provider = nullptr;
  bundle::LedgerAnchor* ledger_anchor = nullptr;
  // Why there is no quote / receipt when the provider is null (signed into
  // the statement).
  std::string quote_absent_reason;
  std::string receipt_absent_reason;
  // More files for the bundle (e.g. the node's facts and the measurement
  // allowlist in force), added as they are.
  std::vector<bundle::File> extra_files;
  // Progress lines ("[3/9] SBOM: 612 packages"), e.g. to stderr.
  std::function<void(std::string_view)> progress;
};

struct ExportResult {
  bundle::WriteResult bundle;
  size_t observations = 0;
  size_t findings_satisfied = 0;
  size_t findings_not_satisfied = 0;
  size_t findings_manual = 0;
  size_t packages = 0;
  bool openscap_ran = false;
  absl::Duration duration;
  absl::Duration openscap_duration;
};

// Writes the bundle into `out_dir` (absolute; created, or an existing empty
// directory). Any failure to collect a required input (catalogs, component
// definition, dpkg status, signing) is an error; a check that cannot be
// evaluated is a not-satisfied observation inside the bundle.
absl::StatusOr<ExportResult> ExportBundle(const ExportOptions& options,
                                          const crypto::Ed25519PrivateKey& key,
                                          const std::string& out_dir);
// The same, signed by `signer` (the node through its admin API).
absl::StatusOr<ExportResult> ExportBundle(const ExportOptions& options,
                                          bundle::StatementSigner& signer,
                                          const std::string& out_dir);

}  // namespace virtengine::compliance

#endif  // VIRTENGINE_COMPLIANCE_EXPORT_H_
