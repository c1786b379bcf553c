#include "compliance/evidence_cli.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "compliance/bundle/bundle.h"
#include "compliance/export.h"
#include "security/crypto/ed25519.h"
#include "security/crypto/secret_bytes.h"
#include "security/exec/policy.h"
#include "security/exec/runner.h"
#include "security/path/path.h"
#include "src/common/encoding/hex.h"

namespace virtengine::compliance {
namespace {

using ::virtengine::security::crypto::v1::NODE_SIGNATURE;

constexpr int kOk = 0;
constexpr int kError = 1;
constexpr int kUsage = 2;

constexpr char kUsageText[] =
    "usage:\n"
    "  ve-evidence export --out PATH [--profile ID] [--tailoring FILE |\n"
    "      --no-tailoring] [--no-openscap] [--signing-key FILE |\n"
    "      --ephemeral-key] [--data-dir DIR] [--policy-dir DIR] [--home DIR]\n"
    "      [--root DIR] [--proc DIR] [--daemon NAME[:PID,...]]...\n"
    "      [--seccomp-loaded NAME=SHA256]... [--binary PATH]...\n"
    "      [--commit C] [--builder B] [--system NAME]\n"
    "      [--scap-dir DIR] [--results-dir DIR] [--trampoline PATH]\n"
    "      [--max-backup-age-hours N] [--max-key-age-days N]\n"
    "  ve-evidence verify PATH --key HEX [--require-quote] "
    "[--require-receipt]\n"
    "  ve-evidence diff OLD NEW\n"
    "  ve-evidence --help | --version\n";

using Args = CommandOptions;

// Options that take a value; everything else starting with "--" is a flag.
bool TakesValue(const std::string& name) {
  static const char* const kWithValue[] = {"--out",
                                           "--profile",
                                           "--tailoring",
                                           "--signing-key",
                                           "--data-dir",
                                           "--policy-dir",
                                           "--home",
                                           "--root",
                                           "--proc",
                                           "--daemon",
                                           "--seccomp-loaded",
                                           "--binary",
                                           "--commit",
                                           "--builder",
                                           "--system",
                                           "--scap-dir",
                                           "--results-dir",
                                           "--trampoline",
                                           "--key",
                                           "--max-backup-age-hours",
                                           "--max-key-age-days"};
  for (const char* v : kWithValue) {
    if (name == v) return true;
  }
  return false;
}

bool IsFlag(const std::string& name) {
  return name == "--no-openscap" || name == "--no-tailoring" ||
         name == "--ephemeral-key" || name == "--require-quote" ||
         name == "--require-receipt";
}

absl::StatusOr<Args> ParseArgs(int argc, const char* const* argv, int first,
                               const EvidenceFrontEnd* front_end) {
  std::vector<std::string> extra_values;
  std::vector<std::string> extra_flags;
  if (front_end != nullptr) {
    extra_values = front_end->ValueOptions();
    extra_flags = front_end->FlagOptions();
  }
  const auto in = [](const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) == 0) {
      std::string value;
      const size_t eq = arg.find('=');
      bool has_inline = false;
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        has_inline = true;
      }
      if (TakesValue(arg) || in(extra_values, arg)) {
        if (!has_inline) {
          if (i + 1 >= argc) {
            return absl::InvalidArgumentError(
                absl::StrCat(arg, " needs a value"));
          }
          value = argv[++i];
        }
        a.values.emplace(arg, value);
      } else if ((IsFlag(arg) || in(extra_flags, arg)) && !has_inline) {
        a.flags.push_back(arg);
      } else {
        return absl::InvalidArgumentError(absl::StrCat("unknown option ", arg));
      }
    } else {
      a.positional.push_back(arg);
    }
  }
  return a;
}

absl::StatusOr<crypto::Ed25519PrivateKey> LoadSeed(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (path.empty() || path[0] != '/' || slash == std::string::npos) {
    return absl::InvalidArgumentError("--signing-key needs an absolute path");
  }
  absl::StatusOr<security::path::PathRoot> dir = security::path::PathRoot::Open(
      slash == 0 ? std::string("/") : path.substr(0, slash));
  if (!dir.ok()) return dir.status();
  absl::StatusOr<std::string> text = dir->ReadFile(path.substr(slash + 1), 256);
  if (!text.ok()) return text.status();
  std::string hex = *text;
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == ' ')) {
    hex.pop_back();
  }
  absl::StatusOr<std::vector<uint8_t>> seed = encoding::HexDecode(hex, 32);
  // The hex text is a secret too: scrub our copies.
  std::fill(hex.begin(), hex.end(), '\0');
  std::fill(text->begin(), text->end(), '\0');
  if (!seed.ok() || seed->size() != 32) {
    return absl::InvalidArgumentError(
        "signing key file must hold 64 hex digits (an Ed25519 seed)");
  }
  crypto::SecretBytes secret = crypto::SecretBytes::CopyFrom(
      crypto::ByteView(seed->data(), seed->size()));
  std::fill(seed->begin(), seed->end(), 0);
  return crypto::Ed25519PrivateKey::FromSeed(NODE_SIGNATURE, secret);
}

int Export(const Args& a, std::ostream& out, std::ostream& err,
           EvidenceFrontEnd* front_end) {
  const absl::Time started = absl::Now();
  const std::optional<std::string> out_dir = a.Get("--out");
  if (!out_dir.has_value()) {
    err << "ve-evidence export: --out PATH is required\n" << kUsageText;
    return kUsage;
  }
  ExportOptions o;
  o.data_dir = a.Get("--data-dir").value_or("/usr/share/virtengine/compliance");
  o.checks.policy_dir =
      a.Get("--policy-dir").value_or("/etc/virtengine/policy");
  o.checks.home_dir = a.Get("--home").value_or("/var/lib/virtengine");
  o.checks.proc_dir = a.Get("--proc").value_or("/proc");
  o.system_root = a.Get("--root").value_or("/");
  o.system_name = a.Get("--system").value_or("virtengine-node");
  if (const auto h = a.Get("--max-backup-age-hours"); h.has_value()) {
    int64_t n = 0;
    if (!absl::SimpleAtoi(*h, &n) || n <= 0) {
      err << "ve-evidence export: bad --max-backup-age-hours\n";
      return kUsage;
    }
    o.checks.max_backup_age = absl::Hours(n);
  }
  if (const auto d = a.Get("--max-key-age-days"); d.has_value()) {
    int64_t n = 0;
    if (!absl::SimpleAtoi(*d, &n) || n <= 0) {
      err << "ve-evidence export: bad --max-key-age-days\n";
      return kUsage;
    }
    o.checks.max_key_age = absl::Hours(24 * n);
  }
  std::vector<std::string> daemons = a.All("--daemon");
  if (daemons.empty()) daemons = {"ve-node", "ve-provider", "ve-enclave"};
  for (const std::string& d : daemons) {
    checks::Daemon daemon;
    const size_t colon = d.find(':');
    daemon.name = d.substr(0, colon);
    if (colon != std::string::npos) {
      for (absl::string_view p : absl::StrSplit(d.substr(colon + 1), ',')) {
        int pid = 0;
        if (!absl::SimpleAtoi(p, &pid) || pid <= 0) {
          err << "ve-evidence export: bad pid in --daemon " << d << "\n";
          return kUsage;
        }
        daemon.pids.push_back(pid);
      }
    }
    o.checks.daemons.push_back(std::move(daemon));
  }
  for (const std::string& s : a.All("--seccomp-loaded")) {
    const size_t eq = s.find('=');
    if (eq == std::string::npos) {
      err << "ve-evidence export: --seccomp-loaded needs NAME=SHA256\n";
      return kUsage;
    }
    o.checks.loaded_seccomp_sha256[s.substr(0, eq)] = s.substr(eq + 1);
  }
  for (const std::string& b : a.All("--binary")) {
    o.binaries.push_back(BinarySpec{b, o.product_version,
                                    a.Get("--commit").value_or("unknown"),
                                    a.Get("--builder").value_or("unknown")});
  }
  // Signing key: the node's (front end), else a local one.
  const bool local_key =
      a.Get("--signing-key").has_value() || a.Flag("--ephemeral-key");
  if (!local_key && front_end == nullptr) {
    err << "ve-evidence export: give --signing-key FILE or --ephemeral-key\n";
    return kUsage;
  }
  std::optional<crypto::Ed25519PrivateKey> key;
  if (const auto k = a.Get("--signing-key"); k.has_value()) {
    absl::StatusOr<crypto::Ed25519PrivateKey> loaded = LoadSeed(*k);
    if (!loaded.ok()) {
      err << "ve-evidence export: signing key: " << loaded.status().message()
          << "\n";
      return kError;
    }
    key.emplace(*std::move(loaded));
  } else if (a.Flag("--ephemeral-key")) {
    absl::StatusOr<crypto::Ed25519PrivateKey> gen =
        crypto::Ed25519PrivateKey::Generate(NODE_SIGNATURE);
    if (!gen.ok()) {
      err << "ve-evidence export: " << gen.status().message() << "\n";
      return kError;
    }
    key.emplace(*std::move(gen));
  }
  // OpenSCAP through the allowlisted runner.
  std::unique_ptr<exec::Runner> runner;
  if (a.Flag("--no-openscap")) {
    o.openscap_skip_reason = "--no-openscap was given";
  } else {
    const std::string scap_dir =
        a.Get("--scap-dir").value_or(o.data_dir + "/scap");
    o.openscap.datastream_path = scap_dir + "/ssg-debian12-ds.xml";
    o.openscap.profile = a.Get("--profile").value_or(scap::kDefaultProfile);
    if (!a.Flag("--no-tailoring")) {
      const std::optional<std::string> t = a.Get("--tailoring");
      if (t.has_value()) {
        o.openscap.tailoring_path = *t;
      } else if (!a.Get("--profile").has_value()) {
        // Default: the profile without the slow file-system walks.
        o.openscap.tailoring_path = scap_dir + "/tailoring-skip-slow.xml";
        o.openscap.profile =
            "xccdf_org.virtengine_profile_anssi_bp28_minimal_fast";
      }
    }
    o.openscap.results_dir_path =
        a.Get("--results-dir").value_or("/var/lib/virtengine/evidence");
    absl::StatusOr<exec::Allowlist> list =
        exec::Allowlist::LoadDirectory(o.checks.policy_dir + "/commands");
    exec::RunnerOptions ro;
    if (const auto t = a.Get("--trampoline"); t.has_value()) {
      ro.trampoline_path = *t;
    }
    if (!list.ok()) {
      o.openscap_skip_reason =
          absl::StrCat("command allowlists: ", list.status().message());
    } else {
      absl::StatusOr<std::unique_ptr<exec::Runner>> r = exec::Runner::Create(
          std::make_shared<const exec::Allowlist>(*std::move(list)), ro);
      if (!r.ok()) {
        o.openscap_skip_reason =
            absl::StrCat("runner unavailable: ", r.status().message());
      } else {
        runner = *std::move(r);
        o.runner = runner.get();
      }
    }
  }
  o.progress = [&err](std::string_view line) { err << line << "\n"; };
  NodeExport node;
  if (front_end != nullptr) {
    absl::StatusOr<NodeExport> prepared = front_end->PrepareExport(a, o, err);
    if (!prepared.ok()) {
      err << "ve-evidence export: " << prepared.status().message() << "\n";
      return front_end->IsUsageError(prepared.status()) ? kUsage : kError;
    }
    node = *std::move(prepared);
    o.quote_provider = node.quote_provider.get();
    o.ledger_anchor = node.ledger_anchor.get();
  }
  std::optional<bundle::KeyStatementSigner> key_signer;
  bundle::StatementSigner* signer = node.signer.get();
  if (signer != nullptr && local_key) {
    err << "ve-evidence export: the node signs this bundle with its key: "
           "drop --signing-key / --ephemeral-key\n";
    return kUsage;
  }
  if (signer == nullptr) {
    if (!key.has_value()) {
      err << "ve-evidence export: give --signing-key FILE or "
             "--ephemeral-key"
          << (front_end != nullptr
                  ? ", or --admin-socket PATH to have the node sign"
                  : "")
          << "\n";
      return kUsage;
    }
    key_signer.emplace(*key);
    signer = &*key_signer;
  }
  absl::StatusOr<ExportResult> r = ExportBundle(o, *signer, *out_dir);
  if (!r.ok()) {
    err << "ve-evidence export: " << r.status().message() << "\n";
    return kError;
  }
  const absl::Duration total = absl::Now() - started;
  const crypto::Ed25519PublicKey& pub = signer->public_key();
  out << "bundle: " << *out_dir << "\n"
      << "bundle digest: " << r->bundle.bundle_digest_hex << "\n"
      << "signing key: "
      << encoding::HexEncode(
             absl::Span<const uint8_t>(pub.bytes().data(), pub.bytes().size()))
      << (node.signer != nullptr ? " (the node's key)" : "") << "\n"
      << "files: " << r->bundle.files << "\n"
      << "observations: " << r->observations << "\n"
      << "controls: " << r->findings_satisfied << " satisfied, "
      << r->findings_not_satisfied << " not satisfied, " << r->findings_manual
      << " need manual evidence\n"
      << "packages: " << r->packages << "\n"
      << "openscap: " << (r->openscap_ran ? "ran" : "not run") << "\n"
      << "tpm quote: " << (r->bundle.quoted ? "present" : r->bundle.quote_note)
      << "\n"
      << "ledger receipt: "
      << (r->bundle.anchored ? "present" : r->bundle.receipt_note) << "\n"
      << "export seconds: " << absl::ToDoubleSeconds(r->duration) << "\n"
      << "openscap seconds: " << absl::ToDoubleSeconds(r->openscap_duration)
      << "\n"
      << "total seconds: " << absl::ToDoubleSeconds(total) << "\n";
  return kOk;
}

int Verify(const Args& a, std::ostream& out, std::ostream& err,
           EvidenceFrontEnd* front_end) {
  const std::optional<std::string> key_hex = a.Get("--key");
  if (a.positional.size() != 1 || !key_hex.has_value()) {
    err << "ve-evidence verify: needs PATH and --key HEX\n" << kUsageText;
    return kUsage;
  }
  absl::StatusOr<std::vector<uint8_t>> key_bytes =
      encoding::HexDecode(*key_hex, 32);
  if (!key_bytes.ok() || key_bytes->size() != 32) {
    err << "ve-evidence verify: --key must be 64 hex digits (Ed25519 public "
           "key)\n";
    return kUsage;
  }
  absl::StatusOr<crypto::Ed25519PublicKey> key =
      crypto::Ed25519PublicKey::FromBytes(
          crypto::ByteView(key_bytes->data(), key_bytes->size()));
  if (!key.ok()) {
    err << "ve-evidence verify: " << key.status().message() << "\n";
    return kUsage;
  }
  bundle::VerifyOptions vo;
  vo.require_quote = a.Flag("--require-quote");
  vo.require_receipt = a.Flag("--require-receipt");
  BundleVerifiers verifiers;
  if (front_end != nullptr) {
    absl::StatusOr<BundleVerifiers> v =
        front_end->PrepareVerify(a, a.positional[0], *key);
    if (!v.ok()) {
      err << "ve-evidence verify: " << v.status().message() << "\n";
      return front_end->IsUsageError(v.status()) ? kUsage : kError;
    }
    verifiers = *std::move(v);
    vo.quote_verifier = verifiers.quote.get();
    vo.receipt_verifier = verifiers.receipt.get();
  }
  absl::StatusOr<bundle::VerifyReport> r =
      bundle::VerifyBundle(a.positional[0], *key, vo);
  if (!r.ok()) {
    out << "result: FAILED: " << r.status().message() << "\n";
    return kError;
  }
  for (const std::string& line : r->lines) out << line << "\n";
  if (r->quote != bundle::PartState::kVerified) {
    out << "attestation: NOT ATTESTED ("
        << (r->quote == bundle::PartState::kAbsent
                ? r->quote_note
                : std::string("the TPM quote was not verified: ") +
                      r->quote_note)
        << ")\n";
  }
  const bool complete = r->quote == bundle::PartState::kVerified &&
                        r->receipt == bundle::PartState::kVerified;
  out << "result: VERIFIED (signature, manifest, hashes)";
  if (!complete) {
    out << " - INCOMPLETE: TPM quote " << bundle::PartStateName(r->quote)
        << ", ledger receipt " << bundle::PartStateName(r->receipt);
  }
  out << "\n";
  return kOk;
}

int Diff(const Args& a, std::ostream& out, std::ostream& err) {
  if (a.positional.size() != 2) {
    err << "ve-evidence diff: needs OLD and NEW bundle paths\n" << kUsageText;
    return kUsage;
  }
  absl::StatusOr<bundle::DiffReport> r =
      bundle::DiffBundles(a.positional[0], a.positional[1]);
  if (!r.ok()) {
    err << "ve-evidence diff: " << r.status().message() << "\n";
    return kError;
  }
  for (const bundle::ControlChange& c : r->changes) {
    out << (c.worse ? "WORSE  " : "changed ") << c.control_id << ": "
        << c.old_state << " -> " << c.new_state << "\n";
  }
  out << r->changes.size() << " control(s) changed; "
      << (r->any_worse ? "some got WORSE" : "none got worse") << "\n";
  return r->any_worse ? kError : kOk;
}

}  // namespace

std::optional<std::string> CommandOptions::Get(const std::string& name) const {
  const auto it = values.find(name);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> CommandOptions::All(const std::string& name) const {
  std::vector<std::string> v;
  const auto range = values.equal_range(name);
  for (auto it = range.first; it != range.second; ++it) v.push_back(it->second);
  return v;
}

bool CommandOptions::Flag(const std::string& name) const {
  return std::find(flags.begin(), flags.end(), name) != flags.end();
}

int EvidenceMain(int argc, const char* const* argv, std::ostream& out,
                 std::ostream& err, EvidenceFrontEnd* front_end) {
  const std::string usage = front_end != nullptr
                                ? absl::StrCat(kUsageText, front_end->Usage())
                                : std::string(kUsageText);
  if (argc < 2) {
    err << usage;
    return kUsage;
  }
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h") {
    out << usage;
    return kOk;
  }
  if (cmd == "--version") {
    out << kToolVersion << "\n";
    return kOk;
  }
  absl::StatusOr<Args> args = ParseArgs(argc, argv, 2, front_end);
  if (!args.ok()) {
    err << "ve-evidence: " << args.status().message() << "\n" << kUsageText;
    return kUsage;
  }
  if (cmd == "export") {
    if (!args->positional.empty()) {
      err << "ve-evidence export: unexpected argument " << args->positional[0]
          << "\n";
      return kUsage;
    }
    return Export(*args, out, err, front_end);
  }
  if (cmd == "verify") return Verify(*args, out, err, front_end);
  if (cmd == "diff") return Diff(*args, out, err);
  err << "ve-evidence: unknown command '" << cmd << "'\n" << kUsageText;
  return kUsage;
}

}  // namespace virtengine::compliance
