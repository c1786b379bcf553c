// Policy text (security/exec): size check, protobuf text-format parsing and
// semantic validation. Invariants:
//  - never crashes; errors are InvalidArgument, or ResourceExhausted exactly
//    when the text is over kMaxPolicyBytes;
//  - the interpreter option only ever adds acceptance, and only for that
//    reason;
//  - an accepted policy satisfies the documented rules (checked with an
//    independent oracle): unique ids under the adapter, absolute normalized
//    binaries, limits in range, no unrequested shell metacharacters in
//    character sets or enum values, at most one variable-count placeholder;
//  - its SHA-256 is the SHA-256 of exactly the input bytes;
//  - a request built from each entry's own schema is accepted (or refused
//    only for the total argv size) and round-trips into the expected argv.
#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/exec/policy.h"

namespace {

using virtengine::exec::CommandPolicy;
using virtengine::exec::Entry;
using virtengine::exec::kMaxPolicyBytes;
using virtengine::exec::Placeholder;
using virtengine::exec::PlaceholderType;
using virtengine::exec::ValidateInvocation;

void Check(bool ok) {
  if (!ok) std::abort();
}

bool Meta(char c) {
  return std::string_view(" \t\n;&|$`'\"\\<>(){}[]*?!~#^").find(c) !=
         std::string_view::npos;
}

bool Printable(const std::string& s) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) return false;
  }
  return true;
}

bool NormalizedAbsolute(const std::string& p) {
  if (p.size() < 2 || p.front() != '/' || p.back() == '/') return false;
  if (p.find("//") != std::string::npos) return false;
  if (p.find("/./") != std::string::npos) return false;
  if (p.find("/../") != std::string::npos) return false;
  if (p.size() >= 2 && p.compare(p.size() - 2, 2, "/.") == 0) return false;
  if (p.size() >= 3 && p.compare(p.size() - 3, 3, "/..") == 0) return false;
  for (const char c : p) {
    if (Meta(c) || !Printable(std::string(1, c))) return false;
  }
  return true;
}

std::string Sha256Hex(const uint8_t* data, size_t size) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, data, size);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (const unsigned char b : digest) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 15]);
  }
  return hex;
}

// A value the placeholder must accept, or false when none can be built
// safely (e.g. an identifier charset of only '.' and '-').
bool Sample(const Placeholder& ph, std::string* out) {
  switch (ph.type) {
    case PlaceholderType::kInt:
      *out = std::to_string(ph.int_min);
      return true;
    case PlaceholderType::kEnum:
      *out = ph.enum_values.front();
      return true;
    case PlaceholderType::kPathBeneath: {
      std::string v = ph.root_path + "/a";
      while (v.size() < ph.min_len) v += (v.back() == '/') ? "a" : "/a";
      if (v.size() > ph.max_len) return false;
      *out = v;
      return true;
    }
    case PlaceholderType::kIdentifier:
    case PlaceholderType::kString: {
      char pick = 0;
      for (int c = 0x21; c < 0x7f && pick == 0; ++c) {
        if (!ph.charset.test(static_cast<size_t>(c))) continue;
        const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                           (c >= '0' && c <= '9') || c == '_';
        if (ph.type == PlaceholderType::kIdentifier && !alnum) continue;
        if (c == '-' && !ph.allow_leading_dash) continue;
        pick = static_cast<char>(c);
      }
      if (pick == 0 && ph.charset.test(' ') &&
          ph.type == PlaceholderType::kString) {
        pick = ' ';
      }
      if (pick == 0) return ph.min_len == 0 ? (out->clear(), true) : false;
      *out = std::string(ph.min_len, pick);
      return true;
    }
  }
  return false;
}

void CheckEntry(const Entry& e, const std::string& adapter) {
  Check(e.id.size() > adapter.size() + 1 && e.id.size() <= 64);
  Check(e.id.compare(0, adapter.size() + 1, adapter + ".") == 0);
  Check(NormalizedAbsolute(e.binary));
  const auto& l = e.limits;
  Check(l.cpu_seconds >= 1 && l.cpu_seconds <= 604800);
  Check(l.address_space_bytes >= (16ULL << 20) &&
        l.address_space_bytes <= (1ULL << 40));
  Check(l.open_files >= 4 && l.open_files <= 1048576);
  Check(l.processes >= 1 && l.processes <= 1048576);
  Check(l.file_size_bytes <= (1ULL << 40));
  Check(l.timeout_ms >= 1 && l.timeout_ms <= 604800000);
  Check(l.stdout_max_bytes <= (64ULL << 20));
  Check(l.stderr_max_bytes <= (64ULL << 20));
  Check(l.stdin_max_bytes <= (64ULL << 20));

  size_t variable = 0;
  size_t min_args = 0;
  size_t max_args = 0;
  std::set<std::string> names;
  for (const auto& spec : e.argv) {
    if (spec.is_word) {
      Check(!spec.word.empty() && Printable(spec.word));
      continue;
    }
    const Placeholder& ph = spec.placeholder;
    Check(names.insert(ph.name).second);
    Check(Printable(ph.prefix));
    if (ph.min_count != 1 || ph.max_count != 1) ++variable;
    Check(ph.min_count <= ph.max_count && ph.max_count >= 1);
    min_args += ph.min_count;
    max_args += ph.max_count;
    if (ph.type == PlaceholderType::kString ||
        ph.type == PlaceholderType::kIdentifier) {
      for (size_t c = 0; c < 128; ++c) {
        if (!ph.charset.test(c)) continue;
        Check(c >= 0x20 && c < 0x7f);
        if (!ph.allow_shell_metachars) Check(!Meta(static_cast<char>(c)));
      }
      Check(ph.max_len >= 1 && ph.max_len <= 4096 && ph.min_len <= ph.max_len);
    }
    if (ph.type == PlaceholderType::kEnum) {
      for (const std::string& v : ph.enum_values) {
        Check(!v.empty() && Printable(v));
        if (!ph.allow_leading_dash) Check(v.front() != '-');
        if (!ph.allow_shell_metachars) {
          for (const char c : v) Check(!Meta(c));
        }
      }
    }
    if (ph.type == PlaceholderType::kInt) {
      Check(ph.int_min <= ph.int_max);
      if (ph.int_min < 0) Check(ph.allow_leading_dash);
    }
    if (ph.type == PlaceholderType::kPathBeneath) {
      Check(NormalizedAbsolute(ph.root_path));
    }
  }
  Check(variable <= 1);
  Check(e.min_args == min_args && e.max_args == max_args);
  for (const auto& [name, value] : e.fixed_env) {
    Check(Printable(value));
    Check(name.compare(0, 3, "LD_") != 0);
  }
  for (const auto& env : e.env) {
    Check(env.name != "PATH" && env.name.compare(0, 3, "LD_") != 0);
  }

  // A request built from the schema itself, with the variable placeholder at
  // its minimum and at its maximum count.
  for (const bool at_max : {false, true}) {
    std::vector<std::string> args;
    std::vector<std::string> want = {e.binary};
    bool buildable = true;
    for (const auto& spec : e.argv) {
      if (spec.is_word) {
        want.push_back(spec.word);
        continue;
      }
      std::string v;
      if (!Sample(spec.placeholder, &v)) {
        buildable = false;
        break;
      }
      const size_t n =
          at_max ? spec.placeholder.max_count : spec.placeholder.min_count;
      for (size_t k = 0; k < n; ++k) {
        args.push_back(v);
        want.push_back(spec.placeholder.prefix + v);
      }
    }
    if (!buildable) continue;
    absl::StatusOr<virtengine::exec::Invocation> inv =
        ValidateInvocation(e, args, {}, std::nullopt);
    if (inv.ok()) {
      Check(inv->argv == want);
    } else {
      Check(inv.status().code() == absl::StatusCode::kPermissionDenied);
      Check(std::string(inv.status().message()).find("over the limit") !=
            std::string::npos);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (sodium_init() < 0) std::abort();
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<CommandPolicy> strict = CommandPolicy::Parse(text, "fuzz");
  CommandPolicy::Options loose_options;
  loose_options.allow_interpreters = true;
  absl::StatusOr<CommandPolicy> loose =
      CommandPolicy::Parse(text, "fuzz", loose_options);

  if (size > kMaxPolicyBytes) {
    Check(strict.status().code() == absl::StatusCode::kResourceExhausted);
    Check(loose.status().code() == absl::StatusCode::kResourceExhausted);
    return 0;
  }
  for (const auto* r : {&strict, &loose}) {
    if (!r->ok()) {
      Check(r->status().code() == absl::StatusCode::kInvalidArgument);
    }
  }
  if (strict.ok()) {
    Check(loose.ok());
    Check(strict->sha256_hex() == loose->sha256_hex());
    Check(strict->entries().size() == loose->entries().size());
  } else if (loose.ok()) {
    Check(std::string(strict.status().message())
              .find("is a shell, interpreter or command launcher") !=
          std::string::npos);
  }
  if (!loose.ok()) return 0;

  Check(loose->sha256_hex() == Sha256Hex(data, size));
  Check(!loose->entries().empty() && loose->entries().size() <= 256);
  std::set<std::string> ids;
  for (const auto& e : loose->entries()) {
    Check(ids.insert(e->id).second);
    Check(loose->Find(e->id) == e.get());
    CheckEntry(*e, loose->adapter());
  }
  return 0;
}
