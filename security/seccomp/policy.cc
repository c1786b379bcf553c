#include "security/seccomp/policy.h"

#include <fcntl.h>
#include <seccomp.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <map>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "security/path/path.h"

namespace virtengine::security::seccomp {
namespace {

// Collects the first text-format error with its position (1-based).
class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (!has_error_) {
      has_error_ = true;
      error_ = absl::StrCat("line ", line + 1, " column ", column + 1, ": ",
                            message);
    }
  }
  void AddWarning(int /*line*/, google::protobuf::io::ColumnNumber /*column*/,
                  const std::string& /*message*/) override {}
  const std::string& error() const { return error_; }
  bool has_error() const { return has_error_; }

 private:
  bool has_error_ = false;
  std::string error_;
};

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("seccomp policy: ", what));
}

bool IsSyscallNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF) without
// control characters: reasons are printed to terminals and into JSON.
bool IsPrintableUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return false;
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
        (cp >= 0x80 && cp < 0xa0)) {
      return false;
    }
    i += len;
  }
  return true;
}

std::string Hex(uint64_t v) { return absl::StrCat("0x", absl::Hex(v)); }

absl::Status ValidateCondition(const std::string& where,
                               const v1::ArgCondition& c) {
  if (c.index() > 5) {
    return Invalid(absl::StrCat(where, ": argument index ", c.index(),
                                " out of range 0..5"));
  }
  switch (c.op()) {
    case v1::EQ:
      if (c.mask() != 0) {
        return Invalid(
            absl::StrCat(where, ": mask is only meaningful with MASKED_EQ"));
      }
      return absl::OkStatus();
    case v1::MASKED_EQ:
      if (c.mask() == 0) {
        return Invalid(
            absl::StrCat(where, ": MASKED_EQ needs a non-zero mask"));
      }
      if ((c.value() & ~c.mask()) != 0) {
        return Invalid(absl::StrCat(where, ": value ", Hex(c.value()),
                                    " has bits outside mask ", Hex(c.mask()),
                                    " and can never match"));
      }
      return absl::OkStatus();
    default:
      return Invalid(absl::StrCat(where, ": op must be EQ or MASKED_EQ"));
  }
}

absl::Status ValidateSyscall(const v1::SeccompPolicy& p, int i,
                             std::map<std::string, int>* seen, int* number) {
  const v1::Syscall& s = p.syscall(i);
  const std::string where = absl::StrCat("syscall[", i, "] \"", s.name(), "\"");
  if (s.name().empty()) {
    return Invalid(absl::StrCat("syscall[", i, "]: name is empty"));
  }
  if (s.name().size() > kMaxNameBytes) {
    return Invalid(absl::StrCat("syscall[", i, "]: name longer than ",
                                kMaxNameBytes, " bytes"));
  }
  for (char c : s.name()) {
    if (!IsSyscallNameChar(c)) {
      return Invalid(
          absl::StrCat(where, ": name may hold only [a-z0-9_] characters"));
    }
  }
  const int nr =
      seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, s.name().c_str());
  if (nr == __NR_SCMP_ERROR) {
    return Invalid(
        absl::StrCat(where, ": unknown system call name on x86_64 (libseccomp ",
                     SCMP_VER_MAJOR, ".", SCMP_VER_MINOR, ")"));
  }
  if (nr < 0) {
    return Invalid(absl::StrCat(
        where, ": system call does not exist on x86_64 (pseudo number ", nr,
        ")"));
  }
  auto [it, inserted] = seen->emplace(s.name(), i);
  if (!inserted) {
    return Invalid(absl::StrCat(where, ": duplicate of syscall[", it->second,
                                "]; merge the entries (several `when` blocks "
                                "express alternatives)"));
  }
  if (s.reason().size() > kMaxReasonBytes) {
    return Invalid(absl::StrCat(where, ": reason longer than ", kMaxReasonBytes,
                                " bytes"));
  }
  if (!IsPrintableUtf8(s.reason())) {
    return Invalid(absl::StrCat(
        where, ": reason must be UTF-8 text without control characters"));
  }
  switch (s.action()) {
    case v1::ALLOW:
      if (s.errno_value() != 0) {
        return Invalid(absl::StrCat(where,
                                    ": errno_value is only meaningful with "
                                    "action DENY_ERRNO"));
      }
      break;
    case v1::DENY_ERRNO:
      if (s.errno_value() < 1 || s.errno_value() > kMaxErrno) {
        return Invalid(absl::StrCat(where, ": DENY_ERRNO needs errno_value 1..",
                                    kMaxErrno, ", got ", s.errno_value()));
      }
      if (p.default_action() == v1::ERRNO &&
          p.default_errno() == s.errno_value()) {
        return Invalid(
            absl::StrCat(where, ": action equals the default action (ERRNO ",
                         s.errno_value(), "); drop the entry"));
      }
      break;
    default:
      return Invalid(
          absl::StrCat(where, ": action must be ALLOW or DENY_ERRNO"));
  }
  if (s.when_size() > kMaxRulesPerSyscall) {
    return Invalid(absl::StrCat(where, ": more than ", kMaxRulesPerSyscall,
                                " `when` blocks"));
  }
  for (int w = 0; w < s.when_size(); ++w) {
    const v1::ArgRule& rule = s.when(w);
    const std::string wwhere = absl::StrCat(where, " when[", w, "]");
    if (rule.arg_size() == 0) {
      return Invalid(absl::StrCat(
          wwhere, ": empty `when` (omit `when` to match every call)"));
    }
    if (rule.arg_size() > 6) {
      return Invalid(absl::StrCat(wwhere, ": more than 6 conditions"));
    }
    std::array<bool, 6> used{};
    for (int a = 0; a < rule.arg_size(); ++a) {
      const v1::ArgCondition& c = rule.arg(a);
      const std::string awhere = absl::StrCat(wwhere, " arg[", a, "]");
      absl::Status st = ValidateCondition(awhere, c);
      if (!st.ok()) return st;
      if (used[c.index()]) {
        return Invalid(absl::StrCat(awhere, ": argument ", c.index(),
                                    " is compared twice in one `when`"));
      }
      used[c.index()] = true;
    }
  }
  *number = nr;
  return absl::OkStatus();
}

absl::Status Validate(const v1::SeccompPolicy& p, std::vector<int>* numbers) {
  if (p.version() != 1) {
    return Invalid(absl::StrCat("version must be 1, got ", p.version()));
  }
  if (p.name().empty()) return Invalid("name is empty");
  if (p.name().size() > kMaxNameBytes) {
    return Invalid(absl::StrCat("name longer than ", kMaxNameBytes, " bytes"));
  }
  for (char c : p.name()) {
    if (!IsSyscallNameChar(c) && c != '-') {
      return Invalid("name may hold only [a-z0-9_-] characters");
    }
  }
  if (p.arch() != kArchX86_64) {
    return Invalid(absl::StrCat("arch must be \"", kArchX86_64, "\", got \"",
                                p.arch(), "\""));
  }
  switch (p.default_action()) {
    case v1::KILL_PROCESS:
    case v1::KILL_THREAD:
    case v1::LOG:
    case v1::TRAP:
      if (p.default_errno() != 0) {
        return Invalid(
            "default_errno is only meaningful with default_action ERRNO");
      }
      break;
    case v1::ERRNO:
      if (p.default_errno() < 1 || p.default_errno() > kMaxErrno) {
        return Invalid(
            absl::StrCat("default_action ERRNO needs default_errno "
                         "1..",
                         kMaxErrno, ", got ", p.default_errno()));
      }
      break;
    default:
      return Invalid(
          "default_action must be KILL_PROCESS, KILL_THREAD, LOG, ERRNO or "
          "TRAP");
  }
  if (p.syscall_size() == 0) return Invalid("no syscall entries");
  if (p.syscall_size() > kMaxSyscalls) {
    return Invalid(
        absl::StrCat("more than ", kMaxSyscalls, " syscall entries"));
  }
  std::map<std::string, int> seen;
  numbers->clear();
  numbers->reserve(p.syscall_size());
  for (int i = 0; i < p.syscall_size(); ++i) {
    int nr = -1;
    absl::Status st = ValidateSyscall(p, i, &seen, &nr);
    if (!st.ok()) return st;
    numbers->push_back(nr);
  }
  return absl::OkStatus();
}

}  // namespace

std::string ErrnoText(int err) {
  std::array<char, 128> buf{};
  const char* name = strerrorname_np(err);
  // GNU strerror_r: returns a pointer to the message (maybe not into buf).
  const char* text = strerror_r(err, buf.data(), buf.size());
  return absl::StrCat(name != nullptr ? name : "errno", ": ",
                      text != nullptr ? text : "unknown error");
}

std::string Sha256Hex(absl::string_view bytes) {
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(),
                     reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(digest.size() * 2);
  for (unsigned char b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

absl::StatusOr<Policy> ParsePolicy(absl::string_view text) {
  if (text.size() > kMaxPolicyBytes) {
    return Invalid(absl::StrCat("policy is ", text.size(),
                                " bytes, the limit is ", kMaxPolicyBytes));
  }
  if (sodium_init() < 0) {
    return absl::InternalError("seccomp policy: libsodium failed to start");
  }
  Policy policy;
  google::protobuf::TextFormat::Parser parser;
  FirstErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  parser.AllowPartialMessage(false);
  const std::string owned(text);
  if (!parser.ParseFromString(owned, &policy.proto_)) {
    return Invalid(absl::StrCat(
        "text format: ",
        errors.has_error() ? errors.error() : std::string("parse failed")));
  }
  absl::Status st = Validate(policy.proto_, &policy.numbers_);
  if (!st.ok()) return st;
  policy.sha256_hex_ = Sha256Hex(text);
  return policy;
}

absl::StatusOr<Policy> ReadPolicyFile(const std::string& path) {
  // The file's location is operator configuration, like a path-validator
  // root: it is resolved once (symlinks followed, relative paths against the
  // working directory), then its directory is opened as a root and the file
  // read beneath it through security/path (regular files only, bounded).
  if (path.empty() || path.size() > 4096) {
    return absl::InvalidArgumentError("seccomp policy: empty or overlong path");
  }
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr) {
    const int err = errno;
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot open: ", ErrnoText(err)));
  }
  const std::string abs(resolved);
  const size_t slash = abs.rfind('/');
  const std::string dir = slash == 0 ? "/" : abs.substr(0, slash);
  absl::StatusOr<virtengine::security::path::PathRoot> root =
      virtengine::security::path::PathRoot::Open(dir);
  if (!root.ok()) {
    return absl::Status(
        root.status().code(),
        absl::StrCat(path, ": cannot open: ", root.status().message()));
  }
  absl::StatusOr<std::string> read =
      root->ReadFile(abs.substr(slash + 1), kMaxPolicyBytes);
  if (read.status().code() == absl::StatusCode::kResourceExhausted) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": seccomp policy: larger than ", kMaxPolicyBytes, " bytes"));
  }
  if (read.status().code() == absl::StatusCode::kFailedPrecondition) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a regular file"));
  }
  if (!read.ok()) {
    return absl::Status(
        read.status().code(),
        absl::StrCat(path, ": cannot open: ", read.status().message()));
  }
  const std::string text = *std::move(read);
  absl::StatusOr<Policy> policy = ParsePolicy(text);
  if (!policy.ok()) {
    return absl::Status(policy.status().code(),
                        absl::StrCat(path, ": ", policy.status().message()));
  }
  return policy;
}

absl::Status CheckProductionReady(const Policy& policy) {
  if (policy.proto().default_action() != v1::KILL_PROCESS) {
    return absl::FailedPreconditionError(absl::StrCat(
        "seccomp policy \"", policy.proto().name(), "\": default_action ",
        DefaultActionName(policy.proto().default_action()),
        " is for development only; production requires KILL_PROCESS"));
  }
  return absl::OkStatus();
}

std::string DefaultActionName(v1::DefaultAction action) {
  return v1::DefaultAction_Name(action);
}

std::string SyscallActionName(v1::SyscallAction action) {
  return v1::SyscallAction_Name(action);
}

std::string ArgOpName(v1::ArgOp op) { return v1::ArgOp_Name(op); }

}  // namespace virtengine::security::seccomp
