#include "security/audit/verify_cli.h"

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "security/audit/json_line.h"
#include "security/audit/quote.h"
#include "security/audit/record.h"
#include "security/audit/verifier.h"
#include "security/path/path.h"

namespace virtengine::security::audit {
namespace {

constexpr char kUsage[] =
    "usage: ve-audit-verify [--output text|json] [--anchor SEQ:HASH] "
    "[--allow-torn-tail] PATH\n"
    "  PATH  a home directory (with audit/), an audit directory (with\n"
    "        audit-000001.log ...), or one segment file\n"
    "  --output text|json   report format (default text)\n"
    "  --anchor SEQ:HASH    also require record SEQ to have HASH (64 hex),\n"
    "                       the head anchored in the ledger\n"
    "  --allow-torn-tail    exit 0 when the only finding is a torn tail\n"
    "exit status: 0 verified, 1 tampered or torn, 2 usage or unreadable\n";
constexpr char kVersion[] = "ve-audit-verify 0.1.0 (audit log format v1)\n";
constexpr size_t kMaxArgBytes = 4096;

struct Args {
  bool json = false;
  bool allow_torn = false;
  std::optional<Anchor> anchor;
  std::string path;
};

absl::StatusOr<Anchor> ParseAnchor(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError("--anchor: expected SEQ:HASH");
  }
  Anchor a;
  const std::string_view seq = text.substr(0, colon);
  if (seq.empty() || (seq.size() > 1 && seq[0] == '0') ||
      seq.find_first_not_of("0123456789") != std::string_view::npos ||
      !absl::SimpleAtoi(Sv(seq), &a.seq) || a.seq > kMaxSeq) {
    return absl::InvalidArgumentError(
        absl::StrCat("--anchor: ", Quote(seq), " is not a sequence number"));
  }
  absl::StatusOr<Hash> h = ParseHashHex(text.substr(colon + 1));
  if (!h.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--anchor: ", h.status().message()));
  }
  a.hash = *h;
  return a;
}

absl::StatusOr<Args> ParseArgs(const std::vector<std::string>& argv) {
  Args a;
  bool have_path = false;
  bool have_output = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg.size() > kMaxArgBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "argument ", i + 1, " is longer than ", kMaxArgBytes, " bytes"));
    }
    std::string_view value;
    std::string_view name = arg;
    const bool takes_value = arg == "--output" || arg == "--anchor";
    if (takes_value) {
      if (i + 1 >= argv.size()) {
        return absl::InvalidArgumentError(absl::StrCat(arg, " needs a value"));
      }
      value = argv[++i];
    } else if (arg.rfind("--output=", 0) == 0 ||
               arg.rfind("--anchor=", 0) == 0) {
      const size_t eq = arg.find('=');
      name = std::string_view(arg).substr(0, eq);
      value = std::string_view(arg).substr(eq + 1);
    }
    if (name == "--output") {
      if (have_output) {
        return absl::InvalidArgumentError("--output given twice");
      }
      have_output = true;
      if (value == "json") {
        a.json = true;
      } else if (value != "text") {
        return absl::InvalidArgumentError(
            absl::StrCat("--output: ", Quote(value), " is not text or json"));
      }
    } else if (name == "--anchor") {
      if (a.anchor.has_value()) {
        return absl::InvalidArgumentError("--anchor given twice");
      }
      absl::StatusOr<Anchor> anchor = ParseAnchor(value);
      if (!anchor.ok()) return anchor.status();
      a.anchor = *anchor;
    } else if (arg == "--allow-torn-tail") {
      a.allow_torn = true;
    } else if (arg.rfind('-', 0) == 0 && arg != "-") {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option ", Quote(arg)));
    } else {
      if (have_path) {
        return absl::InvalidArgumentError("more than one PATH given");
      }
      have_path = true;
      a.path = arg;
    }
  }
  if (!have_path) return absl::InvalidArgumentError("PATH is missing");
  if (a.path.empty()) return absl::InvalidArgumentError("PATH is empty");
  return a;
}

// An absolute path without empty, "." or ".." components (".." removes the
// component before it, lexically), as PathRoot::Open wants it.
absl::StatusOr<std::string> Normalize(const std::string& path) {
  std::string full = path;
  if (full[0] != '/') {
    std::string cwd(4096, '\0');
    if (::getcwd(cwd.data(), cwd.size()) == nullptr) {
      return absl::InvalidArgumentError(
          "cannot resolve a relative PATH: the working directory is unknown");
    }
    cwd.resize(cwd.find('\0'));
    full = absl::StrCat(cwd, "/", path);
  }
  std::vector<absl::string_view> parts;
  for (absl::string_view c : absl::StrSplit(full, '/')) {
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(c);
  }
  return absl::StrCat("/", absl::StrJoin(parts, "/"));
}

struct Target {
  std::optional<path::PathRoot> dir;  // the directory holding the log
  std::string file;                   // a single file, or empty for a dir
  std::string shown;                  // for reports
};

absl::StatusOr<Target> Resolve(const std::string& raw) {
  absl::StatusOr<std::string> abs = Normalize(raw);
  if (!abs.ok()) return abs.status();
  Target t;
  t.shown = *abs;
  absl::StatusOr<path::PathRoot> root = path::PathRoot::Open(*abs);
  if (root.ok()) {
    absl::StatusOr<std::vector<std::string>> segs = ListSegments(*root);
    if (!segs.ok()) return segs.status();
    if (!segs->empty()) {
      t.dir = *std::move(root);
      return t;
    }
    absl::StatusOr<path::PathRoot> sub = root->Sub("audit");
    if (sub.ok()) {
      segs = ListSegments(*sub);
      if (!segs.ok()) return segs.status();
      if (!segs->empty()) {
        t.dir = *std::move(sub);
        t.shown = absl::StrCat(*abs == "/" ? "" : *abs, "/audit");
        return t;
      }
    }
    return absl::NotFoundError(absl::StrCat(
        "no audit log segments in ", Quote(*abs, 200), " or its audit/ ",
        "directory (expected audit-000001.log ...)"));
  }
  if (!absl::IsFailedPrecondition(root.status())) return root.status();
  // Not a directory: one file.
  const size_t slash = abs->rfind('/');
  const std::string parent = slash == 0 ? "/" : abs->substr(0, slash);
  t.file = abs->substr(slash + 1);
  absl::StatusOr<path::PathRoot> parent_root = path::PathRoot::Open(parent);
  if (!parent_root.ok()) return parent_root.status();
  t.dir = *std::move(parent_root);
  return t;
}

std::string FindingJson(const Finding& f) {
  std::string out = "{\"kind\":";
  AppendJsonQuoted(&out, FindingKindName(f.kind));
  out += ",\"segment\":";
  AppendJsonQuoted(&out, f.segment);
  absl::StrAppend(&out, ",\"line\":", f.line, ",\"offset\":", f.offset,
                  ",\"expected_seq\":", f.expected_seq, ",\"found_seq\":");
  if (f.found_seq.has_value()) {
    absl::StrAppend(&out, *f.found_seq);
  } else {
    out += "null";
  }
  out += ",\"message\":";
  AppendJsonQuoted(&out, f.message);
  out += "}";
  return out;
}

void Report(const Args& args, const std::string& shown, const VerifyResult& r,
            std::string_view result, std::ostream& out) {
  if (args.json) {
    std::string j = "{\"result\":";
    AppendJsonQuoted(&j, result);
    j += ",\"path\":";
    AppendJsonQuoted(&j, shown);
    absl::StrAppend(&j, ",\"records\":", r.count,
                    ",\"first_seq\":", r.first_seq,
                    ",\"head_seq\":", r.head_seq, ",\"head_hash\":\"",
                    HashHex(r.head_hash), "\"");
    if (args.anchor.has_value()) {
      absl::StrAppend(&j, ",\"anchor_seq\":", args.anchor->seq);
    }
    if (!r.ok()) absl::StrAppend(&j, ",\"finding\":", FindingJson(r.finding));
    j += "}\n";
    out << j;
    return;
  }
  const std::string head =
      r.count == 0 ? std::string("0 records")
                   : absl::StrCat(r.count, " records (seq ", r.first_seq, "..",
                                  r.head_seq, "), head seq ", r.head_seq,
                                  " hash ", HashHex(r.head_hash));
  if (r.ok()) {
    out << "OK: " << head;
    if (args.anchor.has_value()) {
      out << "; anchored seq " << args.anchor->seq << " matches";
    }
    out << "\n";
    return;
  }
  const Finding& f = r.finding;
  if (f.kind == FindingKind::kTornTail) {
    out << (args.allow_torn ? "OK (torn tail allowed): " : "TORN TAIL: ")
        << f.message << "\n"
        << "intact: " << head << "\n";
    return;
  }
  out << "TAMPERED: " << FindingKindName(f.kind) << " at " << f.segment
      << " line " << f.line << " (byte offset " << f.offset << ", expected seq "
      << f.expected_seq << "): " << f.message << "\n"
      << "verified before it: " << head << "\n";
}

}  // namespace

int RunVerifyCli(const std::vector<std::string>& argv, std::ostream& out,
                 std::ostream& err) {
  for (const std::string& a : argv) {
    if (a == "--help" || a == "-h") {
      out << kUsage;
      return kExitOk;
    }
    if (a == "--version") {
      out << kVersion;
      return kExitOk;
    }
  }
  absl::StatusOr<Args> args = ParseArgs(argv);
  if (!args.ok()) {
    err << "ve-audit-verify: " << args.status().message() << "\n" << kUsage;
    return kExitUsage;
  }
  const auto fail = [&](const absl::Status& s) {
    if (args->json) {
      std::string j = "{\"result\":\"error\",\"message\":";
      AppendJsonQuoted(&j, StdSv(s.message()));
      j += "}\n";
      out << j;
    }
    err << "ve-audit-verify: " << s.message() << "\n";
    return kExitUsage;
  };
  absl::StatusOr<Target> target = Resolve(args->path);
  if (!target.ok()) return fail(target.status());

  VerifyOptions options;
  options.anchor = args->anchor;
  absl::StatusOr<VerifyResult> result;
  if (target->file.empty()) {
    result = VerifyLogDir(*target->dir, std::move(options));
  } else {
    // A later segment on its own starts mid-chain; anything else (the first
    // segment, a copied file) must start at the beginning of the chain.
    const std::optional<uint64_t> n = ParseSegmentName(target->file);
    options.trust_first_record = n.has_value() && *n > 1;
    result = VerifyLogFile(*target->dir, target->file, std::move(options));
  }
  if (!result.ok()) return fail(result.status());

  const FindingKind kind = result->finding.kind;
  std::string_view word = "ok";
  int code = kExitOk;
  if (kind == FindingKind::kTornTail) {
    word = "torn_tail";
    code = args->allow_torn ? kExitOk : kExitFinding;
  } else if (kind != FindingKind::kNone) {
    word = "tampered";
    code = kExitFinding;
  }
  Report(*args, target->shown, *result, word, out);
  return code;
}

}  // namespace virtengine::security::audit
