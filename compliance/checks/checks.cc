#include "compliance/checks/checks.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "compliance/common/common.h"
#include "compliance/json/json.h"
#include "security/crypto/policy.h"
#include "security/exec/policy.h"
#include "security/keys/key_record.h"
#include "security/path/path.h"
#include "security/seccomp/policy.h"
#include "src/common/encoding/hex.h"

namespace virtengine::compliance::checks {
namespace {

using json::Value;
using security::path::PathRoot;

constexpr size_t kMaxKeyRecordBytes = size_t{64} * 1024;
constexpr size_t kMaxBackupBytes = size_t{64} * 1024 * 1024;
constexpr size_t kMaxRetentionBytes = size_t{64} * 1024;
constexpr size_t kMaxProcFileBytes = size_t{64} * 1024;

Value S(std::string s) { return Value::Str(std::move(s)); }

CheckOutput Start(const Context& ctx, std::string id, std::string title,
                  std::string description, std::string subject) {
  CheckOutput out;
  oscal::Observation& o = out.observation;
  o.check_id = std::move(id);
  o.title = std::move(title);
  o.description = std::move(description);
  o.collected = Rfc3339(ctx.now);
  o.subject = std::move(subject);
  return out;
}

void Result(CheckOutput* out, bool satisfied, std::string reason) {
  out->observation.satisfied = satisfied;
  out->observation.reason = std::move(reason);
}

// Adds a file to the bundle and names it as evidence of the observation.
// False when it cannot be hashed (crypto policy), which fails the check.
bool AddEvidence(CheckOutput* out, std::string path, std::string content,
                 std::string description) {
  absl::StatusOr<std::string> sha = Sha256Hex(content);
  if (!sha.ok()) {
    Result(out, false,
           absl::StrCat("cannot hash evidence: ", sha.status().message()));
    return false;
  }
  out->observation.evidence.push_back(
      oscal::Evidence{path, std::move(description), *sha});
  out->files.push_back(EvidenceFile{std::move(path), std::move(content)});
  return true;
}

std::string Msg(const absl::Status& st) { return std::string(st.message()); }

std::string Hex(const uint8_t* p, size_t n) {
  return encoding::HexEncode(absl::Span<const uint8_t>(p, n));
}

// The audit log beneath <home>/audit, verified; `on_record` sees each good
// record.
absl::StatusOr<security::audit::VerifyResult> VerifyAudit(
    const Context& ctx,
    std::function<void(const security::audit::Record&)> on_record) {
  absl::StatusOr<PathRoot> home = PathRoot::Open(ctx.home_dir);
  if (!home.ok()) return home.status();
  absl::StatusOr<PathRoot> dir = home->Sub("audit");
  if (!dir.ok()) return dir.status();
  security::audit::VerifyOptions opts;
  opts.on_record = std::move(on_record);
  return security::audit::VerifyLogDir(*dir, std::move(opts));
}

}  // namespace

CheckOutput CheckCryptoPolicy(const Context& ctx) {
  CheckOutput out = Start(
      ctx, "crypto.policy", "Crypto policy loaded and matching its file",
      "The crypto policy file shipped in policy/crypto parses and validates, "
      "and its SHA-256 equals the policy enforced by security/crypto.",
      "policy/crypto/crypto_policy.textproto");
  absl::StatusOr<PathRoot> root = PathRoot::Open(ctx.policy_dir);
  if (!root.ok()) {
    Result(&out, false,
           absl::StrCat("cannot be evaluated: policy directory: ",
                        Msg(root.status())));
    return out;
  }
  absl::StatusOr<std::string> text = root->ReadFile(
      "crypto/crypto_policy.textproto", crypto::CryptoPolicy::kMaxPolicyBytes);
  if (!text.ok()) {
    Result(&out, false,
           absl::StrCat("cannot be evaluated: ", Msg(text.status())));
    return out;
  }
  absl::StatusOr<crypto::CryptoPolicy> parsed =
      crypto::CryptoPolicy::Parse(*text);
  const std::string active = crypto::ActivePolicy()->sha256_hex();
  const std::string embedded = crypto::CryptoPolicy::Embedded().sha256_hex();
  Value summary = Value::Object();
  summary.Set("file", S("policy/crypto/crypto_policy.textproto"));
  summary.Set("file_valid", Value::Bool(parsed.ok()));
  if (!parsed.ok()) summary.Set("file_error", S(Msg(parsed.status())));
  const std::string file_sha = parsed.ok() ? parsed->sha256_hex() : "";
  summary.Set("file_sha256", S(file_sha));
  summary.Set("active_sha256", S(active));
  summary.Set("embedded_sha256", S(embedded));
  summary.Set("node_active_sha256", ctx.node_crypto_policy_sha256.has_value()
                                        ? S(*ctx.node_crypto_policy_sha256)
                                        : Value::Null());
  if (!AddEvidence(&out, "evidence/policy/crypto/crypto_policy.textproto",
                   *text, "The crypto policy file as installed.") ||
      !AddEvidence(&out, "evidence/crypto-policy.json", json::Pretty(summary),
                   "Hashes of the policy file, the active and the embedded "
                   "policy.")) {
    return out;
  }
  if (!parsed.ok()) {
    Result(&out, false,
           absl::StrCat("the policy file does not validate: ",
                        Msg(parsed.status())));
  } else if (file_sha != active) {
    Result(&out, false,
           absl::StrCat("the policy file (sha256 ", file_sha,
                        ") is not the active policy (sha256 ", active, ")"));
  } else if (ctx.node_crypto_policy_sha256.has_value() &&
             *ctx.node_crypto_policy_sha256 != file_sha) {
    Result(&out, false,
           absl::StrCat("the node enforces crypto policy sha256 ",
                        *ctx.node_crypto_policy_sha256,
                        ", not the policy file's ", file_sha));
  } else {
    Result(&out, true,
           absl::StrCat("policy file valid and active",
                        ctx.node_crypto_policy_sha256.has_value()
                            ? " (here and in the node)"
                            : "",
                        ", sha256 ", active));
  }
  return out;
}

namespace {

// Processes named `name` (comm is cut to 15 bytes by the kernel).
std::vector<int> FindProcesses(const PathRoot& proc, const std::string& name) {
  std::vector<int> out;
  absl::StatusOr<std::vector<std::string>> names = proc.List(".");
  if (!names.ok()) return out;
  const std::string want = name.substr(0, 15);
  for (const std::string& n : *names) {
    int pid = 0;
    if (!absl::SimpleAtoi(n, &pid) || pid <= 0) continue;
    absl::StatusOr<std::string> comm = proc.ReadFile(n + "/comm", 256);
    if (!comm.ok()) continue;  // exited meanwhile
    std::string c = *comm;
    while (!c.empty() && c.back() == '\n') c.pop_back();
    if (c == want) out.push_back(pid);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The "Seccomp:" mode of /proc/<pid>/status, or an error.
absl::StatusOr<int> SeccompMode(const PathRoot& proc, int pid) {
  absl::StatusOr<std::string> status =
      proc.ReadFile(absl::StrCat(pid, "/status"), kMaxProcFileBytes);
  if (!status.ok()) return status.status();
  for (absl::string_view line : absl::StrSplit(*status, '\n')) {
    if (!absl::ConsumePrefix(&line, "Seccomp:")) continue;
    int mode = -1;
    if (absl::SimpleAtoi(line, &mode)) return mode;
    return absl::InvalidArgumentError("unparsable Seccomp line");
  }
  return absl::NotFoundError("no Seccomp line in status");
}

}  // namespace

CheckOutput CheckSeccomp(const Context& ctx) {
  std::vector<std::string> names;
  for (const Daemon& d : ctx.daemons) names.push_back(d.name);
  CheckOutput out = Start(
      ctx, "seccomp.daemons", "Every daemon runs under its seccomp allowlist",
      "Each daemon's process shows seccomp filter mode 2 in "
      "/proc/<pid>/status, "
      "its profile in policy/seccomp validates and is production-ready "
      "(KILL_PROCESS), and the profile hash the daemon reports equals the "
      "file's.",
      names.empty() ? std::string("no daemons") : absl::StrJoin(names, ", "));
  if (ctx.daemons.empty()) {
    Result(&out, false,
           "cannot be evaluated: no daemons configured to inspect");
    return out;
  }
  absl::StatusOr<PathRoot> policy = PathRoot::Open(ctx.policy_dir);
  absl::StatusOr<PathRoot> proc = PathRoot::Open(ctx.proc_dir);
  if (!policy.ok() || !proc.ok()) {
    Result(
        &out, false,
        absl::StrCat("cannot be evaluated: ",
                     !policy.ok() ? Msg(policy.status()) : Msg(proc.status())));
    return out;
  }
  std::vector<std::string> problems;
  Value summary = Value::Array();
  for (const Daemon& d : ctx.daemons) {
    Value entry = Value::Object();
    entry.Set("daemon", S(d.name));
    const std::string rel = absl::StrCat("seccomp/", d.name, ".textproto");
    absl::StatusOr<std::string> text =
        policy->ReadFile(rel, security::seccomp::kMaxPolicyBytes);
    std::string file_sha;
    if (!text.ok()) {
      problems.push_back(
          absl::StrCat(d.name, ": profile ", rel, ": ", Msg(text.status())));
    } else {
      absl::StatusOr<security::seccomp::Policy> p =
          security::seccomp::ParsePolicy(absl::string_view(*text));
      if (!p.ok()) {
        problems.push_back(absl::StrCat(
            d.name, ": profile does not validate: ", Msg(p.status())));
      } else {
        file_sha = p->sha256_hex();
        if (absl::Status st = security::seccomp::CheckProductionReady(*p);
            !st.ok()) {
          problems.push_back(absl::StrCat(d.name, ": ", Msg(st)));
        }
      }
      if (!AddEvidence(&out, absl::StrCat("evidence/policy/", rel), *text,
                       absl::StrCat("Seccomp profile of ", d.name))) {
        return out;
      }
    }
    entry.Set("profile_sha256", S(file_sha));
    const auto rep = ctx.loaded_seccomp_sha256.find(d.name);
    if (rep == ctx.loaded_seccomp_sha256.end()) {
      entry.Set("loaded_sha256", Value::Null());
      problems.push_back(absl::StrCat(
          d.name,
          ": loaded profile hash not reported (only ve-node reports it, "
          "through its admin API), cannot be confirmed"));
    } else {
      entry.Set("loaded_sha256", S(rep->second));
      if (rep->second != file_sha) {
        problems.push_back(absl::StrCat(d.name, ": loaded profile sha256 ",
                                        rep->second,
                                        " differs from the file's ", file_sha));
      }
    }
    const auto reported = ctx.reported_seccomp_mode.find(d.name);
    if (reported != ctx.reported_seccomp_mode.end()) {
      entry.Set("self_reported_seccomp_mode", Value::Int(reported->second));
      if (reported->second != 2) {
        problems.push_back(absl::StrCat(
            d.name, ": reports Seccomp mode ", reported->second,
            " in its own /proc/self/status (2 = filter expected)"));
      }
    }
    std::vector<int> pids = d.pids;
    if (pids.empty()) pids = FindProcesses(*proc, d.name);
    Value procs = Value::Array();
    if (pids.empty()) {
      problems.push_back(absl::StrCat(d.name, ": no running process found"));
    }
    for (int pid : pids) {
      Value pv = Value::Object();
      pv.Set("pid", Value::Int(pid));
      absl::StatusOr<int> mode = SeccompMode(*proc, pid);
      if (!mode.ok()) {
        pv.Set("error", S(Msg(mode.status())));
        problems.push_back(
            absl::StrCat(d.name, " pid ", pid, ": ", Msg(mode.status())));
      } else {
        pv.Set("seccomp_mode", Value::Int(*mode));
        if (*mode != 2) {
          problems.push_back(absl::StrCat(d.name, " pid ", pid,
                                          ": Seccomp mode ", *mode,
                                          " (2 = filter expected)"));
        }
      }
      procs.Push(std::move(pv));
    }
    entry.Set("processes", std::move(procs));
    summary.Push(std::move(entry));
  }
  if (!AddEvidence(&out, "evidence/seccomp.json", json::Pretty(summary),
                   "Seccomp mode of every inspected process and the profile "
                   "hashes.")) {
    return out;
  }
  if (problems.empty()) {
    Result(&out, true,
           "every daemon process runs in seccomp filter mode with "
           "its production profile, hashes match");
  } else {
    Result(&out, false, absl::StrJoin(problems, "; "));
  }
  return out;
}

CheckOutput CheckCommandAllowlists(const Context& ctx) {
  CheckOutput out = Start(
      ctx, "exec.allowlists", "Command allowlists and path roots",
      "Every command allowlist in policy/commands loads and validates (the "
      "runner refuses anything else); their SHA-256 and the path roots "
      "their placeholders are confined to are recorded.",
      "policy/commands");
  absl::StatusOr<PathRoot> root = PathRoot::Open(ctx.policy_dir);
  if (!root.ok()) {
    Result(&out, false,
           absl::StrCat("cannot be evaluated: ", Msg(root.status())));
    return out;
  }
  absl::StatusOr<exec::Allowlist> list =
      exec::Allowlist::LoadDirectory(ctx.policy_dir + "/commands");
  if (!list.ok()) {
    Result(&out, false,
           absl::StrCat("allowlists do not load: ", Msg(list.status())));
    return out;
  }
  Value summary = Value::Object();
  Value files = Value::Array();
  for (const exec::Allowlist::Source& s : list->sources()) {
    Value f = Value::Object();
    const size_t slash = s.source.rfind('/');
    const std::string base =
        slash == std::string::npos ? s.source : s.source.substr(slash + 1);
    f.Set("file", S(base));
    f.Set("adapter", S(s.adapter));
    f.Set("sha256", S(s.sha256_hex));
    f.Set("entries", Value::Int(static_cast<int64_t>(s.entries)));
    files.Push(std::move(f));
    absl::StatusOr<std::string> text =
        root->ReadFile(absl::StrCat("commands/", base), exec::kMaxPolicyBytes);
    if (!text.ok()) {
      Result(&out, false,
             absl::StrCat("cannot read ", base, ": ", Msg(text.status())));
      return out;
    }
    if (!AddEvidence(&out, absl::StrCat("evidence/policy/commands/", base),
                     *text, absl::StrCat("Command allowlist ", base))) {
      return out;
    }
    if (out.observation.evidence.back().sha256_hex != s.sha256_hex) {
      Result(&out, false, absl::StrCat(base, " changed while it was read"));
      return out;
    }
  }
  summary.Set("allowlists", std::move(files));
  // Path roots: every path_beneath placeholder's root.
  std::map<std::string, std::string> roots;
  std::string roots_text;
  absl::StatusOr<std::vector<std::string>> names = root->List("commands");
  if (names.ok()) {
    for (const std::string& n : *names) {
      if (n.size() < 10 || n.substr(n.size() - 10) != ".textproto") continue;
      absl::StatusOr<exec::CommandPolicy> p =
          exec::CommandPolicy::LoadFile(ctx.policy_dir + "/commands/" + n);
      if (!p.ok()) continue;
      for (const auto& e : p->entries()) {
        for (const exec::ArgSpec& a : e->argv) {
          if (!a.is_word &&
              a.placeholder.type == exec::PlaceholderType::kPathBeneath) {
            roots[absl::StrCat(p->adapter(), ".", a.placeholder.root_name)] =
                a.placeholder.root_path;
          }
        }
      }
    }
  }
  Value rl = Value::Array();
  for (const auto& [name, path] : roots) {
    Value r = Value::Object();
    r.Set("root", S(name));
    r.Set("path", S(path));
    rl.Push(std::move(r));
    absl::StrAppend(&roots_text, name, " ", path, "\n");
  }
  summary.Set("path_roots", std::move(rl));
  absl::StatusOr<std::string> roots_sha = Sha256Hex(roots_text);
  summary.Set("path_roots_sha256", S(roots_sha.ok() ? *roots_sha : ""));
  if (!AddEvidence(&out, "evidence/command-allowlists.json",
                   json::Pretty(summary),
                   "Allowlist files, their SHA-256 and the path roots.")) {
    return out;
  }
  if (list->sources().empty()) {
    Result(&out, false, "no command allowlist installed");
  } else {
    Result(
        &out, true,
        absl::StrCat(list->sources().size(), " allowlist(s), ", list->size(),
                     " entries, ", roots.size(), " path root(s), all valid"));
  }
  return out;
}

CheckOutput CheckTls(const Context& ctx) {
  CheckOutput out =
      Start(ctx, "tls.settings",
            "TLS 1.3 with mutual authentication on every listener",
            "Every network listener of the node (gRPC API, Raft, metrics) "
            "uses mutual TLS 1.3 with node certificates bound to "
            "attestation; local Unix sockets are guarded by their file mode. "
            "The listeners are those the running node reports through its "
            "admin API.",
            "ve-node listeners");
  if (!ctx.listeners.has_value()) {
    Result(&out, false,
           "cannot be evaluated: no running node was asked for its "
           "listeners (export with --admin-socket)");
    return out;
  }
  if (ctx.listeners->empty()) {
    Result(&out, false, "cannot be evaluated: the node reported no listener");
    return out;
  }
  std::vector<std::string> problems;
  Value list = Value::Array();
  for (const Listener& l : *ctx.listeners) {
    Value v = Value::Object();
    v.Set("name", S(l.name));
    v.Set("address", S(l.address));
    v.Set("transport", S(l.transport));
    v.Set("note", S(l.note));
    list.Push(std::move(v));
    if (l.transport == "tls1.3-mutual" || l.transport == "unix-socket") {
      continue;
    }
    problems.push_back(absl::StrCat(
        l.name, " ", l.address, ": ", l.transport,
        l.note.empty() ? std::string() : absl::StrCat(" (", l.note, ")")));
  }
  Value summary = Value::Object();
  summary.Set("listeners", std::move(list));
  if (!AddEvidence(&out, "evidence/tls.json", json::Pretty(summary),
                   "The node's listeners and their transport, as the node "
                   "reports them.")) {
    return out;
  }
  if (problems.empty()) {
    Result(&out, true,
           absl::StrCat(ctx.listeners->size(),
                        " listener(s), every network listener mutual TLS "
                        "1.3"));
  } else {
    Result(&out, false,
           absl::StrCat("not mutual TLS 1.3: ", absl::StrJoin(problems, "; ")));
  }
  return out;
}

CheckOutput CheckAuditChain(const Context& ctx) {
  CheckOutput out = Start(
      ctx, "audit.chain", "Audit log hash chain intact",
      "security/audit's verifier walks every segment of <home>/audit: each "
      "record parses, its hash is right, sequence numbers and prev hashes "
      "chain without gaps.",
      "<home>/audit");
  absl::StatusOr<security::audit::VerifyResult> r = VerifyAudit(ctx, nullptr);
  if (!r.ok()) {
    Result(&out, false, absl::StrCat("cannot be evaluated: ", Msg(r.status())));
    return out;
  }
  Value summary = Value::Object();
  summary.Set("records", Value::Int(static_cast<int64_t>(r->count)));
  summary.Set("first_seq", Value::Int(static_cast<int64_t>(r->first_seq)));
  summary.Set("head_seq", Value::Int(static_cast<int64_t>(r->head_seq)));
  summary.Set("head_hash", S(Hex(r->head_hash.data(), r->head_hash.size())));
  summary.Set(
      "finding",
      S(std::string(security::audit::FindingKindName(r->finding.kind))));
  if (!r->ok()) {
    summary.Set("segment", S(r->finding.segment));
    summary.Set("line", Value::Int(static_cast<int64_t>(r->finding.line)));
    summary.Set("message", S(r->finding.message));
  }
  if (!AddEvidence(&out, "evidence/audit-chain.json", json::Pretty(summary),
                   "Audit log verification: record count, head and the first "
                   "finding.")) {
    return out;
  }
  if (r->ok()) {
    Result(&out, true,
           absl::StrCat("chain intact: ", r->count, " records, head seq ",
                        r->head_seq));
  } else {
    Result(&out, false,
           absl::StrCat(
               "chain broken: ",
               std::string(security::audit::FindingKindName(r->finding.kind)),
               " in ", r->finding.segment, " line ", r->finding.line, ": ",
               r->finding.message));
  }
  return out;
}

CheckOutput CheckAuditAnchor(const Context& ctx) {
  CheckOutput out = Start(
      ctx, "audit.anchor", "Audit log head anchored in the ledger",
      "The audit head anchored in the ledger (with its receipt) is a record "
      "of the local log with the same hash.",
      "<home>/audit and the ledger");
  if (!ctx.audit_anchor.has_value()) {
    Result(&out, false,
           absl::StrCat("cannot be evaluated: ",
                        ctx.audit_anchor_unavailable.empty()
                            ? "no ledger anchor of the audit head is "
                              "available (export against a running node "
                              "with --admin-socket and --from)"
                            : ctx.audit_anchor_unavailable));
    return out;
  }
  for (const EvidenceFile& f : ctx.audit_anchor_files) {
    if (!AddEvidence(&out, f.path, f.content,
                     "Ledger anchor of the audit head (receipt or the "
                     "anchoring transaction).")) {
      return out;
    }
  }
  absl::StatusOr<PathRoot> home = PathRoot::Open(ctx.home_dir);
  absl::StatusOr<PathRoot> dir =
      home.ok() ? home->Sub("audit") : absl::StatusOr<PathRoot>(home.status());
  if (!dir.ok()) {
    Result(&out, false,
           absl::StrCat("cannot be evaluated: ", Msg(dir.status())));
    return out;
  }
  absl::StatusOr<security::audit::VerifyResult> r =
      security::audit::VerifyAgainstAnchor(*dir, ctx.audit_anchor->hash,
                                           ctx.audit_anchor->seq);
  if (!r.ok()) {
    Result(&out, false, absl::StrCat("cannot be evaluated: ", Msg(r.status())));
  } else if (!r->ok()) {
    Result(&out, false,
           absl::StrCat("anchor check failed: ", r->finding.message));
  } else {
    Result(
        &out, true,
        absl::StrCat(
            "record ", ctx.audit_anchor->seq, " matches the anchored hash ",
            Hex(ctx.audit_anchor->hash.data(), ctx.audit_anchor->hash.size()),
            ctx.audit_anchor_note.empty()
                ? std::string()
                : absl::StrCat(" (", ctx.audit_anchor_note, ")")));
  }
  return out;
}

CheckOutput CheckBackups(const Context& ctx) {
  CheckOutput out = Start(
      ctx, "backup.recent", "Key store backups present and recent",
      "The newest encrypted key-store backup in <home>/backups is younger "
      "than the configured maximum age.",
      "<home>/backups");
  absl::StatusOr<PathRoot> home = PathRoot::Open(ctx.home_dir);
  absl::StatusOr<PathRoot> dir = home.ok()
                                     ? home->Sub("backups")
                                     : absl::StatusOr<PathRoot>(home.status());
  if (!dir.ok()) {
    Result(&out, false, absl::StrCat("no backups: ", Msg(dir.status())));
    return out;
  }
  absl::StatusOr<std::vector<std::string>> names = dir->List(".", 10000);
  if (!names.ok()) {
    Result(&out, false,
           absl::StrCat("cannot be evaluated: ", Msg(names.status())));
    return out;
  }
  Value list = Value::Array();
  int64_t newest = 0;
  for (const std::string& n : *names) {
    absl::StatusOr<std::string> bytes = dir->ReadFile(n, kMaxBackupBytes);
    if (!bytes.ok()) continue;
    absl::StatusOr<keys::BackupFile> b = keys::DecodeBackupFile(*bytes);
    if (!b.ok()) continue;
    absl::StatusOr<std::string> sha = Sha256Hex(*bytes);
    Value v = Value::Object();
    v.Set("file", S(n));
    v.Set("backup_id", S(Hex(b->backup_id.data(), b->backup_id.size())));
    v.Set("created_at", S(Rfc3339(absl::FromUnixSeconds(b->created_at))));
    v.Set("sha256", S(sha.ok() ? *sha : ""));
    list.Push(std::move(v));
    newest = std::max(newest, b->created_at);
  }
  const size_t count = list.items().size();
  Value summary = Value::Object();
  summary.Set("backups", std::move(list));
  summary.Set("max_age_hours",
              Value::Int(absl::ToInt64Hours(ctx.max_backup_age)));
  if (!AddEvidence(&out, "evidence/backups.json", json::Pretty(summary),
                   "Backup files found (outer header, not decrypted).")) {
    return out;
  }
  if (count == 0) {
    Result(&out, false, "no key store backup found in <home>/backups");
    return out;
  }
  const absl::Duration age = ctx.now - absl::FromUnixSeconds(newest);
  if (age > ctx.max_backup_age) {
    Result(&out, false,
           absl::StrCat("newest backup is ", absl::ToInt64Hours(age),
                        " h old, more than the maximum of ",
                        absl::ToInt64Hours(ctx.max_backup_age), " h"));
  } else {
    Result(&out, true,
           absl::StrCat(count, " backup(s), newest ", absl::ToInt64Hours(age),
                        " h old"));
  }
  return out;
}

CheckOutput CheckRestoreDrill(const Context& ctx) {
  CheckOutput out = Start(
      ctx, "backup.restore_drill", "Restore drill performed recently",
      "The audit log holds a successful 'backup.restore_drill' record younger "
      "than the configured maximum age.",
      "<home>/audit");
  int64_t last = -1;
  size_t drills = 0;
  absl::StatusOr<security::audit::VerifyResult> r =
      VerifyAudit(ctx, [&](const security::audit::Record& rec) {
        if (rec.entry.action == kRestoreDrillAction &&
            rec.entry.outcome == security::audit::Outcome::kSuccess) {
          ++drills;
          last = std::max(last, rec.time_unix_nanos);
        }
      });
  if (!r.ok()) {
    Result(&out, false, absl::StrCat("cannot be evaluated: ", Msg(r.status())));
    return out;
  }
  if (!r->ok()) {
    Result(&out, false, "cannot be evaluated: the audit log does not verify");
    return out;
  }
  if (drills == 0) {
    Result(&out, false, "no restore drill recorded in the audit log");
    return out;
  }
  const absl::Duration age = ctx.now - absl::FromUnixNanos(last);
  if (age > ctx.max_restore_drill_age) {
    Result(&out, false,
           absl::StrCat("last restore drill ", absl::ToInt64Hours(age) / 24,
                        " days ago, more than the maximum of ",
                        absl::ToInt64Hours(ctx.max_restore_drill_age) / 24,
                        " days"));
  } else {
    Result(&out, true,
           absl::StrCat(drills, " drill(s), last ",
                        absl::ToInt64Hours(age) / 24, " days ago"));
  }
  return out;
}

CheckOutput CheckKeyRotation(const Context& ctx) {
  CheckOutput out = Start(
      ctx, "keys.rotation", "Active keys rotated within the maximum age",
      "Every active key in <home>/keys was created (generated or rotated) "
      "within the configured maximum age. Record headers are read without "
      "the KEK (their authentication needs the unlocked store).",
      "<home>/keys");
  absl::StatusOr<PathRoot> home = PathRoot::Open(ctx.home_dir);
  absl::StatusOr<PathRoot> dir =
      home.ok() ? home->Sub("keys") : absl::StatusOr<PathRoot>(home.status());
  if (!dir.ok()) {
    Result(
        &out, false,
        absl::StrCat("cannot be evaluated: no key store: ", Msg(dir.status())));
    return out;
  }
  absl::StatusOr<std::vector<std::string>> names = dir->List(".", 10000);
  if (!names.ok()) {
    Result(&out, false,
           absl::StrCat("cannot be evaluated: ", Msg(names.status())));
    return out;
  }
  Value list = Value::Array();
  std::vector<std::string> stale;
  size_t active = 0;
  for (const std::string& n : *names) {
    if (n.size() < 5 || n.substr(n.size() - 4) != ".key") continue;
    absl::StatusOr<std::string> bytes = dir->ReadFile(n, kMaxKeyRecordBytes);
    if (!bytes.ok()) {
      Result(&out, false,
             absl::StrCat("cannot read ", n, ": ", Msg(bytes.status())));
      return out;
    }
    absl::StatusOr<keys::KeyRecord> rec = keys::DecodeKeyRecord(*bytes);
    if (!rec.ok()) {
      Result(&out, false,
             absl::StrCat("key record ", n,
                          " does not decode: ", Msg(rec.status())));
      return out;
    }
    const keys::KeyRecordHeader& h = rec->header;
    const absl::Duration age = ctx.now - absl::FromUnixSeconds(h.created_at);
    Value v = Value::Object();
    v.Set("name", S(h.name));
    v.Set("key_id", S(Hex(h.key_id.data(), h.key_id.size())));
    v.Set("state", S(keys::KeyStateName(h.state)));
    v.Set("generation", Value::Int(h.generation));
    v.Set("created_at", S(Rfc3339(absl::FromUnixSeconds(h.created_at))));
    v.Set("age_days", Value::Int(absl::ToInt64Hours(age) / 24));
    list.Push(std::move(v));
    if (h.state == keys::KeyState::kActive) {
      ++active;
      if (age > ctx.max_key_age) {
        stale.push_back(absl::StrCat(h.name, " (generation ", h.generation,
                                     ", ", absl::ToInt64Hours(age) / 24,
                                     " days)"));
      }
    }
  }
  Value summary = Value::Object();
  summary.Set("keys", std::move(list));
  summary.Set("max_age_days",
              Value::Int(absl::ToInt64Hours(ctx.max_key_age) / 24));
  if (!AddEvidence(&out, "evidence/keys.json", json::Pretty(summary),
                   "Key record headers: name, state, generation, age (no "
                   "secrets).")) {
    return out;
  }
  if (active == 0) {
    Result(&out, false, "no active key in the key store");
  } else if (!stale.empty()) {
    Result(&out, false,
           absl::StrCat("active keys older than the maximum age: ",
                        absl::StrJoin(stale, ", ")));
  } else {
    Result(&out, true,
           absl::StrCat(active, " active key(s), all within ",
                        absl::ToInt64Hours(ctx.max_key_age) / 24, " days"));
  }
  return out;
}

CheckOutput CheckMfa(const Context& ctx) {
  CheckOutput out = Start(
      ctx, "mfa.enforced", "MFA enforced for gated messages",
      "Every message type the gate marks as sensitive requires a fresh MFA "
      "session.",
      "transaction gate");
  Result(&out, false,
         "cannot be evaluated: the MFA module (src/modules/mfa) does not "
         "exist in this build");
  return out;
}

CheckOutput CheckRetention(const Context& ctx) {
  CheckOutput out = Start(
      ctx, "retention.rules", "Retention rules configured and enforced",
      "policy/retention/retention.json defines a maximum age and an erasure "
      "action for every data category; erasure events in the audit log are "
      "counted.",
      "policy/retention");
  absl::StatusOr<PathRoot> root = PathRoot::Open(ctx.policy_dir);
  absl::StatusOr<std::string> text =
      root.ok() ? root->ReadFile("retention/retention.json", kMaxRetentionBytes)
                : absl::StatusOr<std::string>(root.status());
  if (!text.ok()) {
    Result(&out, false,
           absl::StrCat("no retention rules: ", Msg(text.status())));
    return out;
  }
  json::Limits limits;
  limits.max_bytes = kMaxRetentionBytes;
  limits.max_depth = 8;
  absl::StatusOr<Value> doc = json::Parse(*text, limits);
  std::vector<std::string> problems;
  size_t rules = 0;
  if (!doc.ok()) {
    problems.push_back(absl::StrCat("retention.json: ", Msg(doc.status())));
  } else {
    const Value* list = doc->Find("rules");
    if (list == nullptr || !list->is_array() || list->items().empty()) {
      problems.push_back("retention.json has no rules");
    } else {
      for (const Value& r : list->items()) {
        const std::string* cat = r.FindString("category");
        const Value* days = r.Find("max_age_days");
        const std::string* action = r.FindString("action");
        if (cat == nullptr || days == nullptr ||
            days->type() != Value::Type::kNumber || action == nullptr) {
          problems.push_back(
              "a rule lacks category, max_age_days (number) or action");
          break;
        }
        ++rules;
      }
    }
  }
  size_t erasures = 0;
  absl::StatusOr<security::audit::VerifyResult> audit =
      VerifyAudit(ctx, [&](const security::audit::Record& rec) {
        if (rec.entry.action == kErasureAction) ++erasures;
      });
  if (!audit.ok() || !audit->ok()) {
    problems.push_back(
        "erasure events cannot be counted: the audit log is unreadable or "
        "does not verify");
  }
  Value summary = Value::Object();
  summary.Set("rules", Value::Int(static_cast<int64_t>(rules)));
  summary.Set("erasure_events", Value::Int(static_cast<int64_t>(erasures)));
  if (!AddEvidence(&out, "evidence/policy/retention/retention.json", *text,
                   "Retention rules as installed.") ||
      !AddEvidence(&out, "evidence/retention.json", json::Pretty(summary),
                   "Rule count and erasure events in the audit log.")) {
    return out;
  }
  if (problems.empty()) {
    Result(&out, true,
           absl::StrCat(rules, " retention rule(s); ", erasures,
                        " erasure event(s) recorded"));
  } else {
    Result(&out, false, absl::StrJoin(problems, "; "));
  }
  return out;
}

std::vector<CheckOutput> RunAllChecks(const Context& ctx) {
  std::vector<CheckOutput> out;
  out.push_back(CheckCryptoPolicy(ctx));
  out.push_back(CheckSeccomp(ctx));
  out.push_back(CheckCommandAllowlists(ctx));
  out.push_back(CheckTls(ctx));
  out.push_back(CheckAuditChain(ctx));
  out.push_back(CheckAuditAnchor(ctx));
  out.push_back(CheckBackups(ctx));
  out.push_back(CheckRestoreDrill(ctx));
  out.push_back(CheckKeyRotation(ctx));
  out.push_back(CheckMfa(ctx));
  out.push_back(CheckRetention(ctx));
  return out;
}

}  // namespace virtengine::compliance::checks
