// Runs `oscap xccdf eval` through the allowlisted runner (security/exec,
// entries of policy/commands/oscap.textproto) and reads the ARF report it
// wrote back through security/path.
#ifndef VIRTENGINE_COMPLIANCE_SCAP_OPENSCAP_H_
#define VIRTENGINE_COMPLIANCE_SCAP_OPENSCAP_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "security/exec/runner.h"
#include "security/path/path.h"

namespace virtengine::compliance::scap {

// The SSG profile used when none is given.
inline constexpr char kDefaultProfile[] =
    "xccdf_org.ssgproject.content_profile_anssi_bp28_minimal";

struct OpenScapRequest {
  // Absolute paths; each must lie beneath the roots the allowlist entry
  // names (the runner refuses anything else).
  std::string datastream_path;
  std::string tailoring_path;  // "" = no tailoring (entry "oscap.eval")
  std::string profile = kDefaultProfile;
  // Where oscap writes the ARF report: `results_dir_path`/`results_name`.
  std::string results_dir_path;
  std::string results_name = "openscap-arf.xml";
};

struct OpenScapRun {
  int exit_code = -1;       // 0 all pass, 2 some rule failed, 1 error
  std::string arf;          // the report's bytes
  std::string stderr_tail;  // last 2 KiB of oscap's stderr
  absl::Duration duration;
};

// Exit codes 0 and 2 are results; anything else (error, timeout, signal)
// is an Internal/DeadlineExceeded error that quotes oscap's stderr tail.
absl::StatusOr<OpenScapRun> RunOpenScap(const exec::Runner& runner,
                                        const OpenScapRequest& request);

}  // namespace virtengine::compliance::scap

#endif  // VIRTENGINE_COMPLIANCE_SCAP_OPENSCAP_H_
