// ve-node: the VirtEngine ledger node (docs/operator/node.md).
//
//   ve-node init --chain-id ID --home DIR --passphrase-file FILE
//                [--genesis-account ve1...=AMOUNTuve]... [--moniker NAME]
//   ve-node start --home DIR --passphrase-file FILE [--config FILE]
//                 [--grpc-address H:P] [--raft-address H:P]
//                 [--metrics-address H:P] [--log-level L] [--seccomp MODE]
//   ve-node genesis add-voter|import|show --home DIR ...
//   ve-node backup verify DIR
//   ve-node restore --home DIR --from BACKUP [--rejoin true]
//   ve-node version
//
// Exit codes: 0 ok, 1 runtime error, 2 usage or configuration error.

#include <signal.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "security/keys/kek.h"
#include "security/seccomp/filter.h"
#include "security/seccomp/policy.h"
#include "security/validate/number.h"
#include "src/common/log/log.h"
#include "src/node/admin_service.h"
#include "src/node/backup.h"
#include "src/node/files.h"
#include "src/node/home.h"
#include "src/node/image_admin.h"
#include "src/node/metrics.h"
#include "src/node/node.h"
#include "src/node/service.h"

namespace virtengine::node::internal {
extern const char kSeccompPolicy[];
}  // namespace virtengine::node::internal

namespace virtengine::node {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;
constexpr size_t kMaxArgBytes = 4096;

constexpr char kUsage[] =
    "usage: ve-node <command> [flags]\n"
    "\n"
    "commands:\n"
    "  init     write config, genesis and a node key into --home\n"
    "  genesis  add voters to, import or show the genesis of --home\n"
    "  backup   verify a backup (backup verify DIR)\n"
    "  restore  restore a verified backup into a stopped node\n"
    "  start    run the node\n"
    "  version  print the version\n"
    "\n"
    "ve-node <command> --help shows the command's flags.\n";

constexpr char kInitUsage[] =
    "usage: ve-node init --chain-id ID --home DIR --passphrase-file FILE\n"
    "                    [--genesis-account ADDRESS=AMOUNTDENOM]...\n"
    "                    [--moniker NAME] [--fee-denom DENOM] [--min-fee N]\n"
    "                    [--grpc-address H:P] [--raft-address H:P]\n"
    "                    [--metrics-address H:P] [--raft-id N]\n"
    "                    [--operator ADDRESS]... [--join true]\n"
    "\n"
    "The passphrase file (mode 0600, at least 12 bytes) unlocks the key\n"
    "store holding the node key. Env: VE_NODE_PASSPHRASE_FILE.\n"
    "--operator: an account allowed to change the cluster's membership.\n"
    "--join true: this node joins an existing cluster later (import the\n"
    "cluster's genesis, then an operator adds it with vectl cluster add).\n"
    "Prints the node's public key as \"node_public_key: HEX\".\n";

constexpr char kBackupUsage[] =
    "usage: ve-node backup verify DIR\n"
    "\n"
    "Checks every file of the backup against its manifest, the stored chain\n"
    "(links, signatures, tip digest, invariants), then re-executes every\n"
    "block from genesis and compares the recomputed state digest. Changes\n"
    "nothing in DIR (a scratch ledger goes to DIR.verify, then is removed).\n"
    "Backups are taken online with 'vectl admin backup'.\n";

constexpr char kRestoreUsage[] =
    "usage: ve-node restore --home DIR --from BACKUP [--rejoin true]\n"
    "\n"
    "Verifies BACKUP (as 'backup verify'), then installs it as the ledger of\n"
    "the STOPPED node DIR. The old ledger stays as\n"
    "data/ledger.pre-restore-<height>; the Raft log is cleared. A single-\n"
    "voter chain starts a new Raft log; in a cluster, restore into a node\n"
    "initialised with --join true and pass --rejoin true.\n";

constexpr char kGenesisUsage[] =
    "usage: ve-node genesis add-voter --home DIR --raft-id N\n"
    "                                 --raft-address IP:PORT\n"
    "                                 [--grpc-address H:P] --node-key HEX\n"
    "       ve-node genesis import --home DIR --file GENESIS.json\n"
    "       ve-node genesis show --home DIR\n"
    "\n"
    "Forming a cluster: init every node, add the others as voters to one\n"
    "node's genesis, then import that genesis on every other node, all\n"
    "before the first start. show prints this node's own voter entry.\n";

constexpr char kStartUsage[] =
    "usage: ve-node start --home DIR --passphrase-file FILE [--config FILE]\n"
    "                     [--grpc-address H:P] [--raft-address H:P]\n"
    "                     [--metrics-address H:P] [--log-level LEVEL]\n"
    "                     [--seccomp enforce|log|off]\n"
    "                     [--tpm-tcti TCTI | --insecure-no-tpm]\n"
    "\n"
    "--config defaults to DIR/config/node.conf; flags override it.\n"
    "A node needs a TPM (tpm.tcti in the config, e.g. device:/dev/tpmrm0);\n"
    "--insecure-no-tpm runs without one (no attestation; refused by a\n"
    "chain that requires attestation; shown in status and metrics).\n"
    "Env: VE_NODE_HOME, VE_NODE_PASSPHRASE_FILE.\n";

struct Flags {
  std::map<std::string, std::vector<std::string>> values;
  bool help = false;
  std::string Get(const std::string& name, const char* env = nullptr) const {
    auto it = values.find(name);
    if (it != values.end()) return it->second.back();
    if (env != nullptr) {
      const char* v = std::getenv(env);  // NOLINT(concurrency-mt-unsafe): main
                                         // thread, before any other starts
      if (v != nullptr && std::strlen(v) < kMaxArgBytes) return v;
    }
    return "";
  }
};

// Parses "--name value" / "--name=value" against the allowed names; a
// switch ("--name" alone) reads as "true".
absl::StatusOr<Flags> ParseFlags(
    const std::vector<std::string>& args,
    const std::vector<std::string>& allowed,
    const std::vector<std::string>& repeatable,
    const std::vector<std::string>& switches = {}) {
  Flags f;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() > kMaxArgBytes) {
      return absl::InvalidArgumentError("argument longer than 4096 bytes");
    }
    if (a == "--help" || a == "-h") {
      f.help = true;
      continue;
    }
    if (a.rfind("--", 0) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument \"", a, "\""));
    }
    std::string name = a.substr(2);
    std::string value;
    const size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (std::find(switches.begin(), switches.end(), name) !=
               switches.end()) {
      value = "true";
    } else {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " needs a value"));
      }
      value = args[++i];
    }
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    std::vector<std::string>& slot = f.values[name];
    if (!slot.empty() && std::find(repeatable.begin(), repeatable.end(),
                                   name) == repeatable.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, " given twice"));
    }
    slot.push_back(value);
  }
  return f;
}

int UsageError(const std::string& message, const char* usage) {
  std::cerr << "ve-node: " << message << "\n\n" << usage;
  return kExitUsage;
}

int Init(const std::vector<std::string>& args) {
  absl::StatusOr<Flags> f = ParseFlags(
      args,
      {"chain-id", "home", "passphrase-file", "genesis-account", "moniker",
       "fee-denom", "min-fee", "grpc-address", "raft-address",
       "metrics-address", "raft-id", "operator", "join"},
      {"genesis-account", "operator"});
  if (!f.ok()) return UsageError(std::string(f.status().message()), kInitUsage);
  if (f->help) {
    std::cout << kInitUsage;
    return kExitOk;
  }
  InitOptions o;
  o.chain_id = f->Get("chain-id");
  o.home = f->Get("home", "VE_NODE_HOME");
  o.passphrase_file = f->Get("passphrase-file", "VE_NODE_PASSPHRASE_FILE");
  o.moniker = f->Get("moniker");
  o.grpc_address = f->Get("grpc-address");
  o.raft_address = f->Get("raft-address");
  o.metrics_address = f->Get("metrics-address");
  if (!f->Get("fee-denom").empty()) o.fee_denom = f->Get("fee-denom");
  if (std::string m = f->Get("min-fee"); !m.empty()) {
    absl::StatusOr<uint64_t> v = validate::ParseUint64("--min-fee", m);
    if (!v.ok())
      return UsageError(std::string(v.status().message()), kInitUsage);
    o.min_fee = *v;
  }
  if (auto it = f->values.find("genesis-account"); it != f->values.end()) {
    o.genesis_accounts = it->second;
  }
  if (auto it = f->values.find("operator"); it != f->values.end()) {
    o.operators = it->second;
  }
  if (std::string id = f->Get("raft-id"); !id.empty()) {
    absl::StatusOr<uint64_t> v =
        validate::ParseUint64("--raft-id", id, 1, uint64_t{1} << 62);
    if (!v.ok())
      return UsageError(std::string(v.status().message()), kInitUsage);
    o.raft_id = *v;
  }
  if (std::string j = f->Get("join"); !j.empty()) {
    if (j != "true" && j != "false") {
      return UsageError("--join takes true or false", kInitUsage);
    }
    o.join = j == "true";
  }
  if (o.chain_id.empty())
    return UsageError("--chain-id is required", kInitUsage);
  if (o.home.empty() || o.home[0] != '/') {
    return UsageError("--home must be an absolute directory", kInitUsage);
  }
  if (o.passphrase_file.empty()) {
    return UsageError("--passphrase-file is required", kInitUsage);
  }
  absl::Status s = InitHome(o);
  if (!s.ok()) {
    std::cerr << "ve-node init: " << s.ToString() << "\n";
    return s.code() == absl::StatusCode::kInvalidArgument ? kExitUsage
                                                          : kExitRuntime;
  }
  std::cout << "initialised " << o.home << " for chain " << o.chain_id << "\n";
  if (absl::StatusOr<v1::GenesisVoter> own = OwnVoter(o.home); own.ok()) {
    std::cout << "node_public_key: "
              << absl::BytesToHexString(own->node_public_key()) << "\n";
  }
  return kExitOk;
}

int Genesis(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << kGenesisUsage;
    return args.empty() ? kExitUsage : kExitOk;
  }
  const std::string& sub = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  absl::StatusOr<Flags> f = ParseFlags(
      rest,
      {"home", "raft-id", "raft-address", "grpc-address", "node-key", "file"},
      {});
  if (!f.ok()) {
    return UsageError(std::string(f.status().message()), kGenesisUsage);
  }
  if (f->help) {
    std::cout << kGenesisUsage;
    return kExitOk;
  }
  const std::string home = f->Get("home", "VE_NODE_HOME");
  if (home.empty() || home[0] != '/') {
    return UsageError("--home must be an absolute directory", kGenesisUsage);
  }
  absl::Status s;
  if (sub == "add-voter") {
    v1::GenesisVoter v;
    absl::StatusOr<uint64_t> id = validate::ParseUint64(
        "--raft-id", f->Get("raft-id"), 1, uint64_t{1} << 62);
    if (!id.ok()) {
      return UsageError(std::string(id.status().message()), kGenesisUsage);
    }
    v.set_raft_id(*id);
    v.set_raft_address(f->Get("raft-address"));
    v.set_grpc_address(f->Get("grpc-address"));
    std::string key;
    const std::string hex = f->Get("node-key");
    if (hex.size() != 64 || !absl::c_all_of(hex, [](char c) {
          return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        })) {
      return UsageError("--node-key: want 64 lowercase hex digits",
                        kGenesisUsage);
    }
    v.set_node_public_key(absl::HexStringToBytes(hex));
    s = AddGenesisVoter(home, v);
  } else if (sub == "import") {
    const std::string file = f->Get("file");
    if (file.empty() || file[0] != '/') {
      return UsageError("--file must be an absolute path", kGenesisUsage);
    }
    s = ImportGenesis(home, file);
  } else if (sub == "show") {
    absl::StatusOr<v1::GenesisVoter> own = OwnVoter(home);
    if (!own.ok()) {
      std::cerr << "ve-node genesis show: " << own.status().ToString() << "\n";
      return kExitRuntime;
    }
    std::cout << "raft_id: " << own->raft_id() << "\n"
              << "raft_address: " << own->raft_address() << "\n"
              << "grpc_address: " << own->grpc_address() << "\n"
              << "node_public_key: "
              << absl::BytesToHexString(own->node_public_key()) << "\n";
    return kExitOk;
  } else {
    return UsageError("unknown genesis command \"" + sub + "\"", kGenesisUsage);
  }
  if (!s.ok()) {
    std::cerr << "ve-node genesis " << sub << ": " << s.ToString() << "\n";
    return s.code() == absl::StatusCode::kInvalidArgument ? kExitUsage
                                                          : kExitRuntime;
  }
  std::cout << "genesis of " << home << " updated\n";
  return kExitOk;
}

void PrintReport(const BackupReport& r) {
  std::cout << "chain_id: " << r.manifest.chain_id() << "\n"
            << "height: " << r.manifest.height() << "\n"
            << "applied_index: " << r.manifest.applied_index() << "\n"
            << "state_digest: "
            << absl::BytesToHexString(r.manifest.state_digest()) << "\n"
            << "files: " << r.manifest.files_size() << "\n"
            << "replayed_blocks: " << r.replayed_blocks << "\n";
}

int Backup(const std::vector<std::string>& args) {
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << kBackupUsage;
    return kExitOk;
  }
  if (args.size() != 2 || args[0] != "verify" || args[1].empty() ||
      args[1][0] != '/' || args[1].size() > kMaxArgBytes) {
    return UsageError("want: backup verify /absolute/dir", kBackupUsage);
  }
  std::string dir = args[1];
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  absl::StatusOr<BackupReport> r = VerifyBackup(dir, dir + ".verify");
  if (!r.ok()) {
    std::cerr << "ve-node backup verify: " << r.status().ToString() << "\n";
    return kExitRuntime;
  }
  PrintReport(*r);
  std::cout << "verified: the recomputed state digest matches\n";
  return kExitOk;
}

int Restore(const std::vector<std::string>& args) {
  absl::StatusOr<Flags> f = ParseFlags(args, {"home", "from", "rejoin"}, {});
  if (!f.ok()) {
    return UsageError(std::string(f.status().message()), kRestoreUsage);
  }
  if (f->help) {
    std::cout << kRestoreUsage;
    return kExitOk;
  }
  const std::string home = f->Get("home", "VE_NODE_HOME");
  const std::string from = f->Get("from");
  const std::string rejoin = f->Get("rejoin");
  if (home.empty() || home[0] != '/' || from.empty() || from[0] != '/') {
    return UsageError("--home and --from must be absolute directories",
                      kRestoreUsage);
  }
  if (!rejoin.empty() && rejoin != "true" && rejoin != "false") {
    return UsageError("--rejoin takes true or false", kRestoreUsage);
  }
  absl::StatusOr<BackupReport> r = RestoreBackup(from, home, rejoin == "true");
  if (!r.ok()) {
    std::cerr << "ve-node restore: " << r.status().ToString() << "\n";
    return r.status().code() == absl::StatusCode::kFailedPrecondition
               ? kExitUsage
               : kExitRuntime;
  }
  PrintReport(*r);
  std::cout << "restored into " << home << "; start the node\n";
  return kExitOk;
}

// Loads the daemon's seccomp allowlist: the embedded copy, or --seccomp-policy.
absl::Status InstallSeccomp(const std::string& mode) {
  if (mode == "off") {
    log::Warn("seccomp_off", {{"reason", "seccomp disabled by configuration"}});
    return absl::OkStatus();
  }
  absl::StatusOr<virtengine::security::seccomp::Policy> policy =
      virtengine::security::seccomp::ParsePolicy(internal::kSeccompPolicy);
  if (!policy.ok()) return policy.status();
  virtengine::security::seccomp::LoadOptions lo;
  lo.mode = mode == "enforce" ? virtengine::security::seccomp::Mode::kEnforce
                              : virtengine::security::seccomp::Mode::kLog;
  if (absl::Status s = virtengine::security::seccomp::LoadPolicy(*policy, lo);
      !s.ok()) {
    return s;
  }
  log::Info(
      "seccomp_loaded",
      {{"mode", mode},
       {"policy_sha256", virtengine::security::seccomp::LoadedPolicySha256()}});
  return absl::OkStatus();
}

int Start(const std::vector<std::string>& args) {
  absl::StatusOr<Flags> f =
      ParseFlags(args,
                 {"home", "passphrase-file", "config", "grpc-address",
                  "raft-address", "metrics-address", "log-level", "seccomp",
                  "insecure-no-tpm", "tpm-tcti"},
                 {}, {"insecure-no-tpm"});
  if (!f.ok())
    return UsageError(std::string(f.status().message()), kStartUsage);
  if (f->help) {
    std::cout << kStartUsage;
    return kExitOk;
  }
  const std::string home = f->Get("home", "VE_NODE_HOME");
  if (home.empty() || home[0] != '/') {
    return UsageError("--home must be an absolute directory", kStartUsage);
  }
  const std::string pass_file =
      f->Get("passphrase-file", "VE_NODE_PASSPHRASE_FILE");
  if (pass_file.empty())
    return UsageError("--passphrase-file is required", kStartUsage);
  std::string config_path = f->Get("config");
  if (config_path.empty()) config_path = home + "/config/node.conf";
  absl::StatusOr<std::string> text = ReadAbsolute(config_path, kMaxConfigBytes);
  if (!text.ok()) return UsageError(text.status().ToString(), kStartUsage);
  absl::StatusOr<v1::NodeConfig> config = ParseConfig(*text);
  if (!config.ok()) return UsageError(config.status().ToString(), kStartUsage);
  for (auto [flag, field] :
       {std::pair<const char*, std::string*>{"grpc-address",
                                             config->mutable_grpc_address()},
        {"raft-address", config->mutable_raft_address()},
        {"metrics-address", config->mutable_metrics_address()},
        {"log-level", config->mutable_log_level()},
        {"seccomp", config->mutable_seccomp()},
        {"tpm-tcti", config->mutable_tpm()->mutable_tcti()}}) {
    if (f->values.count(flag) != 0) *field = f->Get(flag);
  }
  const std::string insecure_flag = f->Get("insecure-no-tpm");
  if (!insecure_flag.empty() && insecure_flag != "true" &&
      insecure_flag != "false") {
    return UsageError("--insecure-no-tpm takes no value (or true|false)",
                      kStartUsage);
  }
  const bool insecure_no_tpm = insecure_flag == "true";
  if (insecure_no_tpm && !config->tpm().tcti().empty()) {
    return UsageError(
        "--insecure-no-tpm and a TPM (tpm.tcti / --tpm-tcti) exclude each "
        "other",
        kStartUsage);
  }
  if (!insecure_no_tpm && config->tpm().tcti().empty()) {
    return UsageError(
        "no TPM configured: set tpm { tcti: \"device:/dev/tpmrm0\" } in "
        "the config (or --tpm-tcti), or run without attestation with "
        "--insecure-no-tpm",
        kStartUsage);
  }
  if (absl::Status s = ValidateConfig(*config); !s.ok()) {
    return UsageError(s.ToString(), kStartUsage);
  }
  log::SetMinLevel(*log::ParseLevel(config->log_level()));
  absl::StatusOr<std::string> gtext =
      ReadAbsolute(home + "/config/genesis.json", kMaxGenesisBytes);
  if (!gtext.ok()) return UsageError(gtext.status().ToString(), kStartUsage);
  absl::StatusOr<v1::GenesisDoc> genesis = ParseGenesis(*gtext);
  if (!genesis.ok())
    return UsageError(genesis.status().ToString(), kStartUsage);
  if (insecure_no_tpm && genesis->attestation_required()) {
    return UsageError(
        "--insecure-no-tpm refused: this chain's genesis requires "
        "attestation (attestation_required)",
        kStartUsage);
  }

  // Signals are taken by sigwait on this thread; block them before any
  // thread starts so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<security::path::PathRoot> root = OpenDir(home, false);
  if (!root.ok()) return UsageError(root.status().ToString(), kStartUsage);
  absl::StatusOr<crypto::SecretBytes> pass = ReadPassphraseFile(pass_file);
  if (!pass.ok()) return UsageError(pass.status().ToString(), kStartUsage);
  keys::PassphraseKekProvider kek(*std::move(pass));
  absl::StatusOr<std::unique_ptr<keys::KeyStore>> store =
      keys::KeyStore::Open(*root, kek, keys::SystemWallClock::Get());
  if (!store.ok()) {
    log::Error("keystore_open_failed", {{"error", store.status().ToString()}});
    return kExitRuntime;
  }
  absl::StatusOr<std::unique_ptr<StoreBlockSigner>> signer =
      StoreBlockSigner::Open(*std::move(store));
  if (!signer.ok()) {
    log::Error("node_key_unavailable", {{"error", signer.status().ToString()}});
    return kExitRuntime;
  }
  // The node key signs compliance statements too (admin API); the Node owns
  // the signer and outlives the admin service.
  const ledger::BlockSigner* node_signer = signer->get();
  bool voter = false;
  bool key_listed = false;
  const std::string own_key((crypto::AsChars((*signer)->public_key().view())));
  for (const v1::GenesisVoter& v : genesis->voters()) {
    if (v.raft_id() == config->raft_id()) {
      voter = v.node_public_key() == own_key;
    }
    key_listed = key_listed || v.node_public_key() == own_key;
  }
  if (config->join() && key_listed) {
    log::Error("join_without_cluster_genesis",
               {{"reason",
                 "a joining node needs the cluster's genesis: run ve-node "
                 "genesis import first"}});
    return kExitUsage;
  }
  if (!voter && !config->join()) {
    log::Error(
        "not_a_genesis_voter",
        {{"raft_id", config->raft_id()},
         {"reason", "genesis lists no voter with this raft id and node key"}});
    return kExitUsage;
  }
  std::unique_ptr<Attestor> attestor;
  if (insecure_no_tpm) {
    log::Warn("insecure_no_tpm",
              {{"reason",
                "started with --insecure-no-tpm: this node cannot prove what "
                "it runs and a chain requiring attestation will not admit "
                "it"}});
  } else {
    absl::StatusOr<std::unique_ptr<Attestor>> a = Attestor::Open(
        config->tpm().tcti(), *root,
        {config->tpm().pcrs().begin(), config->tpm().pcrs().end()}, own_key);
    if (!a.ok()) {
      log::Error("tpm_unavailable", {{"tcti", config->tpm().tcti()},
                                     {"error", a.status().ToString()}});
      return kExitRuntime;
    }
    attestor = *std::move(a);
    log::Info("tpm_ready",
              {{"tcti", config->tpm().tcti()},
               {"ek_certificate", attestor->has_ek_certificate()}});
  }
  absl::StatusOr<std::unique_ptr<NodeMetrics>> metrics =
      NodeMetrics::Create(config->metrics_address());
  if (!metrics.ok()) {
    log::Error("metrics_failed", {{"error", metrics.status().ToString()}});
    return kExitRuntime;
  }
  absl::StatusOr<std::unique_ptr<Node>> node =
      Node::Start(*config, *genesis, home, *std::move(signer), metrics->get(),
                  std::move(attestor));
  if (!node.ok()) {
    log::Error("node_start_failed", {{"error", node.status().ToString()}});
    return kExitRuntime;
  }
  if (insecure_no_tpm) {
    // The governance parameter may have been set after genesis.
    absl::StatusOr<bool> required = (*node)->AttestationRequired();
    if (!required.ok() || *required) {
      log::Error("insecure_no_tpm_refused",
                 {{"reason", required.ok() ? "the chain requires attestation "
                                             "(governance parameter "
                                             "attestation_required)"
                                           : required.status().ToString()}});
      (*node)->Stop();
      return kExitUsage;
    }
  }
  NodeService service(node->get(), config->api());
  absl::StatusOr<std::unique_ptr<grpc::Server>> server =
      StartGrpcServer(config->grpc_address(), config->api(), &service);
  if (!server.ok()) {
    log::Error("grpc_failed", {{"error", server.status().ToString()}});
    (*node)->Stop();
    return kExitRuntime;
  }
  const std::string admin_path = AdminSocketPath(*config, home);
  AdminEvidenceConfig evidence;
  evidence.signer = node_signer;
  evidence.moniker = config->moniker();
  evidence.seccomp_mode = config->seccomp();
  evidence.grpc_address = config->grpc_address();
  evidence.raft_address = config->raft_address();
  evidence.metrics_address = config->metrics_address();
  evidence.admin_socket = admin_path;
  if (!insecure_no_tpm) {
    evidence.pcrs.assign(config->tpm().pcrs().begin(),
                         config->tpm().pcrs().end());
  }
  AdminService admin(node->get(), home, *genesis, std::move(evidence));
  // A/B image updates (image_admin.h) on the same admin socket.
  ImageAdminConfig image_config;
  image_config.home = home;
  image_config.audit = [n = node->get()](std::string_view action,
                                         std::string_view object,
                                         const absl::Status& result) {
    n->Audit(action, object, result);
  };
  ImageAdminService image_admin(std::move(image_config));
  absl::StatusOr<std::unique_ptr<grpc::Server>> admin_server =
      StartAdminServer(admin_path, {&admin, &image_admin});
  if (!admin_server.ok()) {
    log::Error("admin_api_failed",
               {{"error", admin_server.status().ToString()}});
    (*server)->Shutdown();
    (*node)->Stop();
    return kExitRuntime;
  }
  if (absl::Status s = InstallSeccomp(config->seccomp()); !s.ok()) {
    log::Error("seccomp_failed", {{"error", s.ToString()}});
    (*server)->Shutdown();
    (*node)->Stop();
    return kExitRuntime;
  }
  log::Info("node_started", {{"chain_id", genesis->chain_id()},
                             {"height", (*node)->height()},
                             {"grpc", config->grpc_address()},
                             {"raft", config->raft_address()},
                             {"metrics", config->metrics_address()},
                             {"admin_socket", admin_path},
                             {"version", kVersion}});
  sd_notify(0, "READY=1");
  int sig = 0;
  sigwait(&signals, &sig);
  log::Info("node_stopping", {{"signal", sig}});
  sd_notify(0, "STOPPING=1");
  (*admin_server)
      ->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  (*server)->Shutdown(std::chrono::system_clock::now() +
                      std::chrono::seconds(5));
  (*node)->Stop();
  log::Info("node_stopped", {{"height", (*node)->height()}});
  return kExitOk;
}

}  // namespace

int Main(int argc, char** argv) {
#ifdef NDEBUG
  // Debian builds abseil without NDEBUG, so by default every absl::Mutex
  // acquisition updates a process-wide lock-order graph (deadlock
  // detection): about 2 % of a loaded node's CPU in a profile. Release
  // builds turn it off; test builds (no NDEBUG) keep the check.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kUsage;
    return kExitUsage;
  }
  const std::string cmd = args[0];
  args.erase(args.begin());
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::cout << kUsage;
    return kExitOk;
  }
  if (cmd == "--version" || cmd == "version") {
    std::cout << "ve-node " << kVersion << "\n";
    return kExitOk;
  }
  if (cmd == "init") return Init(args);
  if (cmd == "genesis") return Genesis(args);
  if (cmd == "backup") return Backup(args);
  if (cmd == "restore") return Restore(args);
  if (cmd == "start") return Start(args);
  std::cerr << "ve-node: unknown command \"" << cmd << "\"\n\n" << kUsage;
  return kExitUsage;
}

}  // namespace virtengine::node

int main(int argc, char** argv) { return virtengine::node::Main(argc, argv); }
