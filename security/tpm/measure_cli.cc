#include "security/tpm/measure_cli.h"

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "security/attest/event_log.h"
#include "security/tpm/measure.h"
#include "security/tpm/tpm.h"
#include "src/common/encoding/hex.h"

namespace virtengine::tpm {

namespace {

using attest::MeasureKind;

constexpr char kUsage[] =
    "usage: ve-measure extend --log=PATH [--tcti=CONF] MEASUREMENT...\n"
    "       ve-measure replay --log=PATH\n"
    "       ve-measure --help | --version\n"
    "\n"
    "extend: appends each measurement to the event log, then extends it\n"
    "into its PCR (SHA-256 bank), always in this order:\n"
    "  --image-root-hash=HEX         dm-verity root hash (64 hex)   PCR 8\n"
    "  --kernel=FILE | --kernel-sha256=HEX                          PCR 8\n"
    "  --initrd=FILE | --initrd-sha256=HEX                          PCR 8\n"
    "  --cmdline=FILE | --cmdline-sha256=HEX                        PCR 8\n"
    "  --policy-bundle=FILE | --policy-bundle-sha256=HEX            PCR 9\n"
    "  --binary=NAME=FILE | --binary-sha256=NAME=HEX  (repeatable, in the\n"
    "                                 order given)                  PCR 9\n"
    "  --tcti=CONF   TPM TCTI (default device:/dev/tpmrm0)\n"
    "  --log=PATH    absolute path of the event log (created if missing)\n"
    "replay: prints the log's events and the PCR 8/9 values it replays to.\n"
    "FILE and PATH are absolute. NAME: 1..128 of [A-Za-z0-9._:/@+-].\n"
    "exit status: 0 ok, 1 runtime error (TPM, files, malformed log),\n"
    "2 usage error\n";
constexpr char kVersion[] = "ve-measure 0.1.0 (event log format 1)\n";
constexpr size_t kMaxArgBytes = 4096;
constexpr size_t kMaxBinaries = 256;

struct Singleton {
  const char* flag;
  MeasureKind kind;
};
constexpr Singleton kSingletons[] = {
    {"kernel", MeasureKind::kKernel},
    {"initrd", MeasureKind::kInitrd},
    {"cmdline", MeasureKind::kCmdline},
    {"policy-bundle", MeasureKind::kPolicyBundle},
};

// What to measure: a file to hash or a digest given in hex.
struct Source {
  bool is_hex = false;
  std::string value;
};

struct ExtendArgs {
  std::string tcti = "device:/dev/tpmrm0";
  std::string log;
  std::optional<std::string> image_root_hash;
  std::map<MeasureKind, Source> singles;
  std::vector<std::pair<std::string, Source>> binaries;
};

absl::StatusOr<crypto::Digest32> Hex32(std::string_view flag,
                                       const std::string& hex) {
  absl::StatusOr<std::vector<uint8_t>> b = encoding::HexDecode(hex, 32);
  if (!b.ok() || b->size() != 32) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", std::string(flag), ": expected 64 hex digits"));
  }
  crypto::Digest32 d{};
  std::copy(b->begin(), b->end(), d.begin());
  return d;
}

absl::StatusOr<crypto::Digest32> Resolve(std::string_view flag,
                                         const Source& src) {
  if (src.is_hex) return Hex32(flag, src.value);
  return HashFile(src.value);
}

// Returns true and sets `value` when `arg` is --name=VALUE.
bool Flag(std::string_view arg, std::string_view name, std::string* value) {
  const std::string prefix = absl::StrCat("--", std::string(name), "=");
  if (arg.size() < prefix.size() || arg.substr(0, prefix.size()) != prefix) {
    return false;
  }
  *value = std::string(arg.substr(prefix.size()));
  return true;
}

absl::Status ParseExtend(const std::vector<std::string>& args,
                         ExtendArgs* out) {
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string v;
    bool matched = false;
    if (Flag(a, "tcti", &v)) {
      out->tcti = v;
      matched = true;
    } else if (Flag(a, "log", &v)) {
      out->log = v;
      matched = true;
    } else if (Flag(a, "image-root-hash", &v)) {
      if (out->image_root_hash.has_value()) {
        return absl::InvalidArgumentError("--image-root-hash given twice");
      }
      out->image_root_hash = v;
      matched = true;
    } else if (Flag(a, "binary", &v) || Flag(a, "binary-sha256", &v)) {
      const size_t eq = v.find('=');
      if (eq == std::string::npos || eq == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(a.substr(0, a.find('=')), ": expected NAME=VALUE"));
      }
      if (out->binaries.size() >= kMaxBinaries) {
        return absl::InvalidArgumentError("too many --binary measurements");
      }
      const bool hex = a.rfind("--binary-sha256=", 0) == 0;
      out->binaries.emplace_back(v.substr(0, eq),
                                 Source{hex, v.substr(eq + 1)});
      matched = true;
    } else {
      for (const Singleton& s : kSingletons) {
        const bool file = Flag(a, s.flag, &v);
        const bool hex = !file && Flag(a, absl::StrCat(s.flag, "-sha256"), &v);
        if (!file && !hex) continue;
        if (out->singles.count(s.kind) != 0) {
          return absl::InvalidArgumentError(
              absl::StrCat("--", s.flag, " given twice"));
        }
        out->singles[s.kind] = Source{hex, v};
        matched = true;
        break;
      }
    }
    if (!matched) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown argument \"", a.substr(0, 64), "\""));
    }
  }
  if (out->log.empty()) return absl::InvalidArgumentError("--log is required");
  if (out->log[0] != '/') {
    return absl::InvalidArgumentError("--log must be an absolute path");
  }
  if (!out->image_root_hash.has_value() && out->singles.empty() &&
      out->binaries.empty()) {
    return absl::InvalidArgumentError("nothing to measure");
  }
  if (absl::Status s = ValidateTctiConfig(out->tcti); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--tcti: ", s.message()));
  }
  for (const auto& [name, src] : out->binaries) {
    if (absl::Status s = attest::ValidateEventName(name); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--binary name: ", s.message()));
    }
  }
  return absl::OkStatus();
}

int Usage(std::ostream& err, absl::string_view why) {
  err << "ve-measure: " << why << "\n" << kUsage;
  return kMeasureUsageError;
}

int Runtime(std::ostream& err, const absl::Status& s) {
  err << "ve-measure: " << s.message() << "\n";
  return kMeasureRuntimeError;
}

int Extend(const std::vector<std::string>& args, std::ostream& out,
           std::ostream& err) {
  ExtendArgs a;
  if (absl::Status s = ParseExtend(args, &a); !s.ok()) {
    return Usage(err, s.message());
  }
  // Hash everything before touching the log or the TPM.
  std::vector<attest::MeasurementEvent> events;
  auto add = [&](MeasureKind kind, const std::string& name,
                 absl::StatusOr<crypto::Digest32> d) -> absl::Status {
    if (!d.ok()) return d.status();
    absl::StatusOr<attest::MeasurementEvent> e = MakeEvent(kind, name, *d);
    if (!e.ok()) return e.status();
    events.push_back(*std::move(e));
    return absl::OkStatus();
  };
  if (a.image_root_hash.has_value()) {
    absl::StatusOr<crypto::Digest32> d =
        Hex32("image-root-hash", *a.image_root_hash);
    if (!d.ok()) return Usage(err, d.status().message());
    (void)add(MeasureKind::kImageRootHash, "image-root-hash", d);
  }
  for (const Singleton& s : kSingletons) {
    auto it = a.singles.find(s.kind);
    if (it == a.singles.end()) continue;
    absl::StatusOr<crypto::Digest32> d = Resolve(s.flag, it->second);
    if (!d.ok() && it->second.is_hex) return Usage(err, d.status().message());
    if (absl::Status st = add(s.kind, s.flag, d); !st.ok()) {
      return Runtime(err, st);
    }
  }
  for (const auto& [name, src] : a.binaries) {
    absl::StatusOr<crypto::Digest32> d = Resolve("binary-sha256", src);
    if (!d.ok() && src.is_hex) return Usage(err, d.status().message());
    if (absl::Status st = add(MeasureKind::kBinary, name, d); !st.ok()) {
      return Runtime(err, st);
    }
  }
  absl::StatusOr<std::unique_ptr<Tpm>> tpm = Tpm::Open(a.tcti);
  if (!tpm.ok()) return Runtime(err, tpm.status());
  if (absl::Status s = Measure(**tpm, a.log, events); !s.ok()) {
    return Runtime(err, s);
  }
  for (const attest::MeasurementEvent& e : events) {
    out << "measured pcr " << e.pcr << " " << attest::MeasureKindName(e.kind)
        << " " << e.name << " " << encoding::HexEncode(e.content_digest)
        << "\n";
  }
  return kMeasureOk;
}

int Replay(const std::vector<std::string>& args, std::ostream& out,
           std::ostream& err) {
  std::string log;
  for (size_t i = 1; i < args.size(); ++i) {
    if (!Flag(args[i], "log", &log)) {
      return Usage(err, absl::StrCat("unknown argument \"",
                                     args[i].substr(0, 64), "\""));
    }
  }
  if (log.empty() || log[0] != '/') {
    return Usage(err, "--log=PATH (absolute) is required");
  }
  absl::StatusOr<std::vector<attest::MeasurementEvent>> events =
      ReadEventLog(log);
  if (!events.ok()) return Runtime(err, events.status());
  absl::StatusOr<std::map<uint32_t, crypto::Digest32>> pcrs =
      attest::ReplayEventLog(*events);
  if (!pcrs.ok()) return Runtime(err, pcrs.status());
  for (size_t i = 0; i < events->size(); ++i) {
    const attest::MeasurementEvent& e = (*events)[i];
    out << "event " << i << " pcr " << e.pcr << " "
        << attest::MeasureKindName(e.kind) << " " << e.name << " "
        << encoding::HexEncode(e.content_digest) << "\n";
  }
  for (const auto& [pcr, value] : *pcrs) {
    out << "pcr " << pcr << " " << encoding::HexEncode(value) << "\n";
  }
  return kMeasureOk;
}

}  // namespace

int RunMeasureCli(const std::vector<std::string>& args, std::ostream& out,
                  std::ostream& err) {
  for (const std::string& a : args) {
    if (a.size() > kMaxArgBytes) return Usage(err, "argument too long");
  }
  if (args.empty()) return Usage(err, "missing command");
  const std::string& cmd = args[0];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    out << kUsage;
    return kMeasureOk;
  }
  if (cmd == "--version") {
    out << kVersion;
    return kMeasureOk;
  }
  if (cmd == "extend") return Extend(args, out, err);
  if (cmd == "replay") return Replay(args, out, err);
  return Usage(err,
               absl::StrCat("unknown command \"", cmd.substr(0, 64), "\""));
}

}  // namespace virtengine::tpm
