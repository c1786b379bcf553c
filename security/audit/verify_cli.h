// ve-audit-verify: checks an audit log and reports the first tampered record.
//
//   ve-audit-verify [--output text|json] [--anchor SEQ:HASH]
//                   [--allow-torn-tail] PATH
//
// PATH is a home directory (holding audit/), the audit directory itself
// (holding audit-000001.log, ...), or a single segment file. Exit status:
// 0 the log verified (and matched the anchor, if given); 1 a finding
// (tampering, layout error, anchor mismatch, or a torn tail unless
// --allow-torn-tail); 2 usage error or a log that cannot be read.
#ifndef VIRTENGINE_SECURITY_AUDIT_VERIFY_CLI_H_
#define VIRTENGINE_SECURITY_AUDIT_VERIFY_CLI_H_

#include <ostream>
#include <string>
#include <vector>

namespace virtengine::security::audit {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFinding = 1;
inline constexpr int kExitUsage = 2;

// Runs the command with `args` (without the program name); returns the exit
// status. Reports go to `out`, usage errors to `err`.
int RunVerifyCli(const std::vector<std::string>& args, std::ostream& out,
                 std::ostream& err);

}  // namespace virtengine::security::audit

#endif  // VIRTENGINE_SECURITY_AUDIT_VERIFY_CLI_H_
