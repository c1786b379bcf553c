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

#include <ostream>

namespace virtengine::compliance {

int EvidenceMain(int argc, const char* const* argv, std::ostream& out,
                 std::ostream& err);

}  // namespace virtengine::compliance

#endif  // VIRTENGINE_COMPLIANCE_EVIDENCE_CLI_H_
