#include "security/seccomp/inspect.h"

#include <string.h>

#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "security/seccomp/filter.h"

namespace virtengine::security::seccomp {
namespace {

constexpr char kUsage[] =
    "usage: ve-seccomp-inspect [--output text|json] POLICY_FILE\n"
    "Prints what a seccomp policy (policy/seccomp/*.textproto) allows: the\n"
    "default action, each syscall with its x86_64 number, action and argument\n"
    "conditions, the compiled filter size and the SHA-256 of the file.\n"
    "Exit codes: 0 ok, 1 runtime error, 2 usage error or invalid policy.\n";
constexpr char kVersion[] = "ve-seccomp-inspect (VirtEngine) 1\n";

std::string Hex(uint64_t v) { return absl::StrCat("0x", absl::Hex(v)); }

// Symbolic names for the constants the daemon policies use.
const std::map<uint64_t, const char*>& AddressFamilies() {
  static const auto* m = new std::map<uint64_t, const char*>{
      {1, "AF_UNIX"},     {2, "AF_INET"},    {10, "AF_INET6"},
      {16, "AF_NETLINK"}, {17, "AF_PACKET"}, {40, "AF_VSOCK"}};
  return *m;
}

const std::map<uint64_t, const char*>& IoctlRequests() {
  static const auto* m =
      new std::map<uint64_t, const char*>{{0x5401, "TCGETS"},
                                          {0x5402, "TCSETS"},
                                          {0x5403, "TCSETSW"},
                                          {0x5404, "TCSETSF"},
                                          {0x5412, "TIOCSTI"},
                                          {0x5413, "TIOCGWINSZ"},
                                          {0x541B, "FIONREAD"},
                                          {0x5421, "FIONBIO"},
                                          {0x5450, "FIONCLEX"},
                                          {0x5451, "FIOCLEX"},
                                          {0x80087601, "FS_IOC_GETVERSION"}};
  return *m;
}

const std::map<uint64_t, const char*>& PrctlOptions() {
  static const auto* m =
      new std::map<uint64_t, const char*>{{1, "PR_SET_PDEATHSIG"},
                                          {15, "PR_SET_NAME"},
                                          {16, "PR_GET_NAME"},
                                          {38, "PR_SET_NO_NEW_PRIVS"},
                                          {39, "PR_GET_NO_NEW_PRIVS"}};
  return *m;
}

const std::vector<std::pair<uint64_t, const char*>>& CloneFlags() {
  static const auto* v = new std::vector<std::pair<uint64_t, const char*>>{
      {0x100, "CLONE_VM"},
      {0x200, "CLONE_FS"},
      {0x400, "CLONE_FILES"},
      {0x800, "CLONE_SIGHAND"},
      {0x4000, "CLONE_VFORK"},
      {0x8000, "CLONE_PARENT"},
      {0x10000, "CLONE_THREAD"},
      {0x20000, "CLONE_NEWNS"},
      {0x40000, "CLONE_SYSVSEM"},
      {0x80000, "CLONE_SETTLS"},
      {0x2000000, "CLONE_NEWCGROUP"},
      {0x4000000, "CLONE_NEWUTS"},
      {0x8000000, "CLONE_NEWIPC"},
      {0x10000000, "CLONE_NEWUSER"},
      {0x20000000, "CLONE_NEWPID"},
      {0x40000000, "CLONE_NEWNET"}};
  return *v;
}

const std::vector<std::pair<uint64_t, const char*>>& ProtFlags() {
  static const auto* v = new std::vector<std::pair<uint64_t, const char*>>{
      {0x1, "PROT_READ"}, {0x2, "PROT_WRITE"}, {0x4, "PROT_EXEC"}};
  return *v;
}

std::string Lookup(const std::map<uint64_t, const char*>& m, uint64_t v) {
  auto it = m.find(v);
  return it == m.end() ? std::string() : std::string(it->second);
}

std::string SignalName(uint64_t v) {
  if (v == 0) return "signal 0";
  if (v > 64) return "";
  const char* abbrev = sigabbrev_np(static_cast<int>(v));
  return abbrev == nullptr ? std::string() : absl::StrCat("SIG", abbrev);
}

// For MASKED_EQ over flag words: which flags must be set, which clear.
std::string DescribeFlags(
    const std::vector<std::pair<uint64_t, const char*>>& flags, uint64_t mask,
    uint64_t value) {
  std::vector<std::string> set;
  std::vector<std::string> clear;
  for (const auto& [bit, name] : flags) {
    if ((mask & bit) == 0) continue;
    ((value & bit) != 0 ? set : clear).push_back(name);
  }
  std::string out;
  if (!set.empty()) absl::StrAppend(&out, absl::StrJoin(set, "|"), " set");
  if (!clear.empty()) {
    absl::StrAppend(&out, out.empty() ? "" : "; ", absl::StrJoin(clear, "|"),
                    " clear");
  }
  return out;
}

std::string Symbol(const std::string& syscall, const v1::ArgCondition& c) {
  const uint64_t v = c.value();
  if (c.op() == v1::EQ) {
    if ((syscall == "socket" || syscall == "socketpair") && c.index() == 0) {
      return Lookup(AddressFamilies(), v);
    }
    if (syscall == "socket" && c.index() == 2 && v == 0) {
      return "protocol 0 (NETLINK_ROUTE for AF_NETLINK)";
    }
    if (syscall == "ioctl" && c.index() == 1) return Lookup(IoctlRequests(), v);
    if (syscall == "prctl" && c.index() == 0) return Lookup(PrctlOptions(), v);
    if ((syscall == "kill" || syscall == "pidfd_send_signal") &&
        c.index() == 1) {
      return SignalName(v);
    }
    if (syscall == "prlimit64" && c.index() == 0 && v == 0) {
      return "pid 0: this process";
    }
    if (syscall == "prlimit64" && c.index() == 2 && v == 0) {
      return "new_limit NULL: read only";
    }
    return "";
  }
  if (syscall == "clone" && c.index() == 0) {
    return DescribeFlags(CloneFlags(), c.mask(), v);
  }
  if ((syscall == "mmap" || syscall == "mprotect") && c.index() == 2) {
    return DescribeFlags(ProtFlags(), c.mask(), v);
  }
  return "";
}

std::string ActionText(const v1::Syscall& s) {
  if (s.action() == v1::DENY_ERRNO) {
    const char* name = strerrorname_np(static_cast<int>(s.errno_value()));
    return absl::StrCat("errno ", name != nullptr ? name : "?", "(",
                        s.errno_value(), ")");
  }
  return "allow";
}

std::string DefaultText(const v1::SeccompPolicy& p) {
  std::string out = DefaultActionName(p.default_action());
  if (p.default_action() == v1::ERRNO) {
    const char* name = strerrorname_np(static_cast<int>(p.default_errno()));
    absl::StrAppend(&out, " ", name != nullptr ? name : "?", "(",
                    p.default_errno(), ")");
  }
  return out;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          (void)std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += "\"";
  return out;
}

}  // namespace

std::string DescribeCondition(const std::string& syscall,
                              const v1::ArgCondition& c) {
  const std::string arg = absl::StrCat("arg", c.index());
  const std::string lhs =
      c.op() == v1::MASKED_EQ
          ? absl::StrCat("(", arg, " & ", Hex(c.mask()), ")")
          : arg;
  std::string out = absl::StrCat(lhs, " == ", Hex(c.value()));
  const std::string sym = Symbol(syscall, c);
  if (!sym.empty()) absl::StrAppend(&out, " (", sym, ")");
  return out;
}

std::string RenderText(const Policy& policy, size_t bpf_instructions) {
  const v1::SeccompPolicy& p = policy.proto();
  const bool production = CheckProductionReady(policy).ok();
  std::string out;
  absl::StrAppend(&out, "policy:         ", p.name(), " (schema version ",
                  p.version(), ", ", p.arch(), ")\n");
  absl::StrAppend(&out, "sha256:         ", policy.sha256_hex(), "\n");
  absl::StrAppend(&out, "default action: ", DefaultText(p),
                  production ? " (production-ready)"
                             : " (development only: production requires "
                               "KILL_PROCESS)",
                  "\n");
  absl::StrAppend(&out, "filter:         ", bpf_instructions,
                  " BPF instructions (enforce mode)\n");
  absl::StrAppend(&out, "syscalls:       ", p.syscall_size(), " entries\n\n");
  std::string row;
  for (int i = 0; i < p.syscall_size(); ++i) {
    const v1::Syscall& s = p.syscall(i);
    char head[64];
    (void)std::snprintf(head, sizeof(head), "%4d  %-20s %-16s ",
                        policy.syscall_numbers()[static_cast<size_t>(i)],
                        s.name().c_str(), ActionText(s).c_str());
    const std::string indent(std::string(head).size(), ' ');
    if (s.when_size() == 0) {
      absl::StrAppend(&out, head, "always\n");
    }
    for (int w = 0; w < s.when_size(); ++w) {
      std::vector<std::string> conds;
      for (const v1::ArgCondition& c : s.when(w).arg()) {
        conds.push_back(DescribeCondition(s.name(), c));
      }
      absl::StrAppend(&out, w == 0 ? std::string(head) : indent,
                      w == 0 ? "when " : "or   ", absl::StrJoin(conds, " and "),
                      "\n");
    }
    if (!s.reason().empty()) {
      absl::StrAppend(&out, "      why: ", s.reason(), "\n");
    }
  }
  return out;
}

std::string RenderJson(const Policy& policy, size_t bpf_instructions) {
  const v1::SeccompPolicy& p = policy.proto();
  std::string out = "{\n";
  absl::StrAppend(&out, "  \"name\": ", JsonString(p.name()), ",\n");
  absl::StrAppend(&out, "  \"schema_version\": ", p.version(), ",\n");
  absl::StrAppend(&out, "  \"arch\": ", JsonString(p.arch()), ",\n");
  absl::StrAppend(&out, "  \"sha256\": ", JsonString(policy.sha256_hex()),
                  ",\n");
  absl::StrAppend(&out, "  \"default_action\": ",
                  JsonString(DefaultActionName(p.default_action())), ",\n");
  absl::StrAppend(&out, "  \"default_errno\": ", p.default_errno(), ",\n");
  absl::StrAppend(&out, "  \"production_ready\": ",
                  CheckProductionReady(policy).ok() ? "true" : "false", ",\n");
  absl::StrAppend(&out, "  \"bpf_instructions\": ", bpf_instructions, ",\n");
  absl::StrAppend(&out, "  \"syscalls\": [");
  for (int i = 0; i < p.syscall_size(); ++i) {
    const v1::Syscall& s = p.syscall(i);
    absl::StrAppend(
        &out, i == 0 ? "\n" : ",\n", "    {\"name\": ", JsonString(s.name()),
        ", \"number\": ", policy.syscall_numbers()[static_cast<size_t>(i)],
        ", \"action\": ", JsonString(SyscallActionName(s.action())),
        ", \"errno\": ", s.errno_value(), ", \"when\": [");
    for (int w = 0; w < s.when_size(); ++w) {
      absl::StrAppend(&out, w == 0 ? "" : ", ", "[");
      for (int a = 0; a < s.when(w).arg_size(); ++a) {
        const v1::ArgCondition& c = s.when(w).arg(a);
        absl::StrAppend(&out, a == 0 ? "" : ", ", "{\"index\": ", c.index(),
                        ", \"op\": ", JsonString(ArgOpName(c.op())),
                        ", \"value\": ", JsonString(Hex(c.value())));
        if (c.op() == v1::MASKED_EQ) {
          absl::StrAppend(&out, ", \"mask\": ", JsonString(Hex(c.mask())));
        }
        absl::StrAppend(&out, ", \"text\": ",
                        JsonString(DescribeCondition(s.name(), c)), "}");
      }
      absl::StrAppend(&out, "]");
    }
    absl::StrAppend(&out, "], \"reason\": ", JsonString(s.reason()), "}");
  }
  absl::StrAppend(&out, p.syscall_size() > 0 ? "\n  ]\n" : "]\n", "}\n");
  return out;
}

int InspectMain(int argc, const char* const* argv, std::ostream& out,
                std::ostream& err) {
  bool json = false;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      out << kUsage;
      return kInspectOk;
    }
    if (arg == "--version") {
      out << kVersion;
      return kInspectOk;
    }
    std::string format;
    if (arg == "--output" || arg == "-o") {
      if (i + 1 >= argc) {
        err << "ve-seccomp-inspect: " << arg << " needs a value\n" << kUsage;
        return kInspectUsageOrInvalid;
      }
      format = argv[++i];
    } else if (arg.rfind("--output=", 0) == 0) {
      format = arg.substr(9);
    } else if (!arg.empty() && arg[0] == '-') {
      err << "ve-seccomp-inspect: unknown option " << arg << "\n" << kUsage;
      return kInspectUsageOrInvalid;
    } else if (path.empty()) {
      path = arg;
      continue;
    } else {
      err << "ve-seccomp-inspect: more than one policy file\n" << kUsage;
      return kInspectUsageOrInvalid;
    }
    if (format == "json") {
      json = true;
    } else if (format == "text") {
      json = false;
    } else {
      err << "ve-seccomp-inspect: --output must be text or json, got \""
          << format << "\"\n";
      return kInspectUsageOrInvalid;
    }
  }
  if (path.empty()) {
    err << "ve-seccomp-inspect: no policy file\n" << kUsage;
    return kInspectUsageOrInvalid;
  }
  absl::StatusOr<Policy> policy = ReadPolicyFile(path);
  if (!policy.ok()) {
    err << "ve-seccomp-inspect: invalid policy: " << policy.status().message()
        << "\n";
    return kInspectUsageOrInvalid;
  }
  absl::StatusOr<std::string> bpf = ExportBpf(*policy);
  if (!bpf.ok()) {
    err << "ve-seccomp-inspect: " << bpf.status().message() << "\n";
    return bpf.status().code() == absl::StatusCode::kInvalidArgument
               ? kInspectUsageOrInvalid
               : kInspectRuntimeError;
  }
  const size_t insns = bpf->size() / 8;
  out << (json ? RenderJson(*policy, insns) : RenderText(*policy, insns));
  return out.good() ? kInspectOk : kInspectRuntimeError;
}

}  // namespace virtengine::security::seccomp
