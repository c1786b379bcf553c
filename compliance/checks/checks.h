// The appliance's automated compliance checks. Each is a small function
// that looks at one thing and returns an OSCAL observation (method TEST,
// collected time, subject, reason) plus the evidence files it relies on
// (copied into the bundle; the observation names them with their SHA-256).
//
// A check that cannot be evaluated (file missing, module absent, data not
// yet available from the node) is not-satisfied with a reason saying so;
// no check ever passes by default.
//
// Check ids (the component definition maps them to controls):
//   crypto.policy, seccomp.daemons, exec.allowlists, tls.settings,
//   audit.chain, audit.anchor, backup.recent, backup.restore_drill,
//   keys.rotation, mfa.enforced, retention.rules
// and openscap.* (scap.h: one observation per OpenSCAP rule result).
#ifndef VIRTENGINE_COMPLIANCE_CHECKS_CHECKS_H_
#define VIRTENGINE_COMPLIANCE_CHECKS_CHECKS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "compliance/oscal/oscal.h"
#include "security/audit/verifier.h"

namespace virtengine::compliance::checks {

struct Daemon {
  std::string name;  // "ve-node": its seccomp profile is <name>.textproto
  // Processes to inspect. Empty: every process whose /proc/<pid>/comm is
  // `name` (cut to 15 characters, as the kernel keeps it).
  std::vector<int> pids;
};

// A file the bundle must carry: `path` inside the bundle and its bytes.
struct EvidenceFile {
  std::string path;
  std::string content;
};

// One listener of the node as the node reports it (admin API facts).
struct Listener {
  std::string name;       // "api", "raft", "metrics", "admin"
  std::string address;    // host:port, or the socket path
  std::string transport;  // "tls1.3-mutual", "plaintext", "unix-socket"
  std::string note;       // what the node says about it
};

struct Context {
  absl::Time now;
  // policy/ as installed: crypto/, seccomp/, commands/, retention/.
  std::string policy_dir;
  // The node's --home: audit/, keys/, backups/.
  std::string home_dir;
  std::string proc_dir = "/proc";
  std::vector<Daemon> daemons;
  // SHA-256 of the seccomp profile each daemon reports having loaded (the
  // node's admin RPC provides ve-node's); absent: cannot be confirmed.
  std::map<std::string, std::string> loaded_seccomp_sha256;
  // The Seccomp mode a daemon reads from its own /proc/self/status (the
  // node's admin RPC); checked besides what /proc/<pid>/status shows here.
  std::map<std::string, int> reported_seccomp_mode;
  // The crypto policy the node enforces (admin RPC); when set, the policy
  // file must equal it too.
  std::optional<std::string> node_crypto_policy_sha256;
  // The audit head anchored in the ledger with its receipt.
  std::optional<security::audit::Anchor> audit_anchor;
  std::string audit_anchor_note;  // how it was anchored
  // The receipt and transaction of the anchor, carried in the bundle.
  std::vector<EvidenceFile> audit_anchor_files;
  // Why there is no anchor (e.g. "no --from key to sign the anchoring
  // transaction"); a default sentence when empty.
  std::string audit_anchor_unavailable;
  // The node's listeners as it reports them; nullopt: no node was asked.
  std::optional<std::vector<Listener>> listeners;
  absl::Duration max_backup_age = absl::Hours(26);
  absl::Duration max_restore_drill_age = absl::Hours(24 * 92);
  absl::Duration max_key_age = absl::Hours(24 * 90);
};

struct CheckOutput {
  oscal::Observation observation;
  std::vector<EvidenceFile> files;
};

CheckOutput CheckCryptoPolicy(const Context& ctx);
CheckOutput CheckSeccomp(const Context& ctx);
CheckOutput CheckCommandAllowlists(const Context& ctx);
CheckOutput CheckTls(const Context& ctx);
CheckOutput CheckAuditChain(const Context& ctx);
CheckOutput CheckAuditAnchor(const Context& ctx);
CheckOutput CheckBackups(const Context& ctx);
CheckOutput CheckRestoreDrill(const Context& ctx);
CheckOutput CheckKeyRotation(const Context& ctx);
CheckOutput CheckMfa(const Context& ctx);
CheckOutput CheckRetention(const Context& ctx);

// Every check above, in that order.
std::vector<CheckOutput> RunAllChecks(const Context& ctx);

// Audit actions the checks count.
inline constexpr char kRestoreDrillAction[] = "backup.restore_drill";
inline constexpr char kErasureAction[] = "data.erase";

}  // namespace virtengine::compliance::checks

#endif  // VIRTENGINE_COMPLIANCE_CHECKS_CHECKS_H_
