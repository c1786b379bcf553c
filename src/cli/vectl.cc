// Argument parsing, help and dispatch of vectl (docs/cli/vectl.md).
#include "src/cli/vectl.h"

#include <algorithm>
#include <cstddef>
#include <functional>
#include <set>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "src/cli/command.h"
#include "src/cli/evidence.h"
#include "src/cli/inputs.h"

namespace virtengine::cli {

// cmd_image.cc
absl::Status RunImageInstall(Context& ctx);
absl::Status RunImageStatus(Context& ctx);

namespace {

constexpr size_t kMaxArgBytes = 4096;
constexpr size_t kMaxArgs = 64;

struct FlagSpec {
  std::string_view name;
  bool takes_value;
};

// Every flag vectl knows; a name has one arity everywhere.
constexpr FlagSpec kFlags[] = {
    {"node", true},
    {"output", true},
    {"timeout", true},
    {"help", false},
    {"version", false},
    {"home", true},
    {"passphrase-file", true},
    {"export-passphrase-file", true},
    {"address", false},
    {"fee", true},
    {"memo", true},
    {"timeout-height", true},
    {"chain-id", true},
    {"sequence", true},
    {"wait", false},
    {"dry-run", false},
    {"denom", true},
    {"node-key", true},
    {"admin-socket", true},
    {"grpc-address", true},
    {"non-voter", false},
    {"attest", false},
    {"nonce", true},
    {"purpose", true},
    {"name", true},
    {"from", true},
    {"title", true},
    {"proposal", true},
    {"yes", false},
    {"no", false},
    {"manifest", true},
    {"allow-debug-image", false},
    {"add-measurement-manifest", true},
    {"add-measurement", true},
    {"pcr", true},
    {"retire-measurement", true},
    {"set-param", true},
    {"add-member", true},
    {"remove-member", true},
    {"remove-node", true},
};

// Flags that may be given more than once (every value is kept).
constexpr std::string_view kRepeatableFlags[] = {"pcr"};

bool IsRepeatable(std::string_view name) {
  return std::find(std::begin(kRepeatableFlags), std::end(kRepeatableFlags),
                   name) != std::end(kRepeatableFlags);
}

const std::set<std::string_view>& GlobalFlags() {
  static const auto* const kGlobal = new std::set<std::string_view>{
      "node", "output", "timeout", "help", "version"};
  return *kGlobal;
}

const FlagSpec* FindFlag(std::string_view name) {
  for (const FlagSpec& f : kFlags) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

constexpr char kGlobalHelp[] =
    "global flags:\n"
    "  --node HOST:PORT    node gRPC address (default 127.0.0.1:9090; env "
    "VECTL_NODE)\n"
    "  --output text|json  output format (default text)\n"
    "  --timeout DURATION  deadline of each gRPC call: 500ms, 10s, 2m "
    "(default 10s)\n"
    "  --help, -h          show help\n"
    "  --version           print the version\n"
    "exit status: 0 ok, 1 runtime error, 2 usage or configuration error\n";

constexpr char kStoreHelp[] =
    "key store flags:\n"
    "  --home DIR              vectl home; keys live in DIR/keys (default\n"
    "                          $HOME/.vectl; env VECTL_HOME)\n"
    "  --passphrase-file PATH  file holding the key store passphrase (env\n"
    "                          VECTL_PASSPHRASE_FILE); else asked on the\n"
    "                          terminal without echo. Never on the command "
    "line.\n";

constexpr char kAdminSocketHelp[] =
    "  --admin-socket PATH     the node's admin socket, an absolute path of "
    "at\n"
    "                          most 100 bytes (env VECTL_ADMIN_SOCKET; "
    "default\n"
    "                          $HOME/.virtengine/admin.sock). Whoever can "
    "open\n"
    "                          it is the node's operator on this machine.\n";

constexpr char kMembershipFlagsHelp[] =
    "  --fee COIN              fee (default 10uve)\n"
    "  --memo TEXT             UTF-8, at most 256 bytes\n"
    "  --timeout-height N      refuse the tx after block N (default 0 = "
    "none)\n"
    "  --chain-id ID           default: the node's (Status from --node)\n"
    "  --sequence N            default: FROM_KEY's next sequence "
    "(QueryBalance\n"
    "                          from --node)\n"
    "  --dry-run               print the signed tx (hex) and do not send it\n"
    "The tx is sent with Admin.ChangeMembership, which waits for its commit\n"
    "and for the Raft configuration to match (catch-up can take minutes):\n"
    "--timeout defaults to 120s for this command. FROM_KEY must hold the\n"
    "ledger's operator role; otherwise the node refuses it (exit 1).\n"
    "Prints the tx hash, its height and the cluster after the change.\n";

constexpr char kGovTxFlagsHelp[] =
    "transaction flags (as 'vectl tx bank send'):\n"
    "  --fee COIN              fee (default 10uve)\n"
    "  --memo TEXT             UTF-8, at most 256 bytes\n"
    "  --timeout-height N      refuse the tx after block N (default 0 = "
    "none)\n"
    "  --chain-id ID           default: the node's (Status)\n"
    "  --sequence N            default: the key's next sequence "
    "(QueryBalance)\n"
    "  --dry-run               print the signed tx (hex) and do not submit "
    "it\n"
    "The tx is always waited for (within --timeout, default 10s). --from "
    "must be\n"
    "a governance member (genesis operators, then members added by "
    "proposal);\n"
    "otherwise the node refuses the tx (exit 1).\n";

constexpr char kManifestHelp[] =
    "The manifest is the appliance image's manifest.json written by "
    "image/build\n"
    "(schema virtengine.image.manifest/1, at most 1 MiB): name = image_id,\n"
    "version = version, PCR 11 = measurements.pcr11_running (what a TPM "
    "quote\n"
    "of a fully booted node shows).\n";

struct CommandSpec {
  std::string_view path;  // "keys add"; groups have no run function
  std::vector<std::string_view> positionals;
  std::vector<std::string_view> flags;
  std::string_view summary;
  std::string_view details;  // extra help text (flags, notes)
  bool uses_store;
  std::function<absl::Status(Context&)> run;
};

const std::vector<CommandSpec>& Commands() {
  static const auto* const kCommands = new std::vector<CommandSpec>{
      {"keys add",
       {"NAME"},
       {"home", "passphrase-file"},
       "create a new account key (Ed25519, purpose TX_SIGNATURE) named NAME",
       "NAME: 1-64 bytes of [a-z0-9._-], starting with a letter or digit.\n"
       "Creates the home and the key store when they do not exist (the\n"
       "passphrase of a new store is at least 12 bytes).\n",
       true,
       RunKeysAdd},
      {"keys list",
       {},
       {"home", "passphrase-file"},
       "list every key of the key store (all generations and states)",
       "",
       true,
       RunKeysList},
      {"keys show",
       {"NAME"},
       {"home", "passphrase-file", "address"},
       "show the active key NAME: address, public key, fingerprint",
       "flags:\n  --address   print only the address\n",
       true,
       RunKeysShow},
      {"keys export",
       {"NAME"},
       {"home", "passphrase-file", "export-passphrase-file"},
       "print the active key NAME as an armored file encrypted under an "
       "export passphrase",
       "flags:\n"
       "  --export-passphrase-file PATH  the export passphrase, at least 12\n"
       "                                 bytes (env "
       "VECTL_EXPORT_PASSPHRASE_FILE);\n"
       "                                 else asked twice on the terminal\n"
       "The raw secret is never printed. Format: docs/cli/vectl.md.\n",
       true,
       RunKeysExport},
      {"keys import",
       {"NAME", "FILE"},
       {"home", "passphrase-file", "export-passphrase-file"},
       "import the key exported in FILE under the name NAME",
       "flags:\n"
       "  --export-passphrase-file PATH  the passphrase the export was made\n"
       "                                 with (env "
       "VECTL_EXPORT_PASSPHRASE_FILE);\n"
       "                                 else asked on the terminal\n",
       true,
       RunKeysImport},
      {"tx bank send",
       {"FROM_KEY", "TO_ADDRESS", "AMOUNT"},
       {"home", "passphrase-file", "fee", "memo", "timeout-height", "chain-id",
        "sequence", "wait", "dry-run"},
       "sign a MsgSend of AMOUNT (e.g. 1000uve) from key FROM_KEY to "
       "TO_ADDRESS and submit it",
       "flags:\n"
       "  --fee COIN              fee (default 10uve)\n"
       "  --memo TEXT             UTF-8, at most 256 bytes\n"
       "  --timeout-height N      refuse the tx after block N (default 0 = "
       "none)\n"
       "  --chain-id ID           default: the node's (Status)\n"
       "  --sequence N            default: the account's next sequence "
       "(QueryBalance)\n"
       "  --wait                  wait until the tx is committed; print its "
       "height\n"
       "  --dry-run               print the signed tx (hex) and do not "
       "submit it\n",
       true,
       RunTxBankSend},
      {"query bank balance",
       {"ADDRESS"},
       {"denom"},
       "the balance and next sequence of ADDRESS (ve1...)",
       "flags:\n  --denom DENOM   denomination (default uve)\n",
       false,
       RunQueryBankBalance},
      {"query tx",
       {"HASH"},
       {},
       "the committed transaction HASH (64 hex), its height and result",
       "",
       false,
       RunQueryTx},
      {"status",
       {},
       {},
       "the node's chain id, height, last block hash, public key and version",
       "",
       false,
       RunStatus},
      {"receipt get",
       {"HASH"},
       {},
       "the receipt of the committed transaction HASH (64 hex)",
       "With --output json, the receipt file format that 'receipt verify'\n"
       "reads (docs/cli/vectl.md, \"Receipt JSON\").\n",
       false,
       RunReceiptGet},
      {"receipt verify",
       {"FILE"},
       {"node-key"},
       "verify a receipt file (from 'receipt get --output json') offline",
       "flags:\n"
       "  --node-key HEX   the node's Ed25519 public key (64 hex); without "
       "it\n"
       "                   the key named in the receipt is used (a warning "
       "says so)\n"
       "Prints OK, or FAILED and the reason (exit 1).\n",
       false,
       RunReceiptVerify},
      {"cluster status",
       {},
       {"admin-socket"},
       "the cluster as a node sees it: leader, term, commit index, halt "
       "state, servers",
       "Asks --node (public Status) by default; with --admin-socket or\n"
       "VECTL_ADMIN_SOCKET, the node's Admin.ClusterStatus instead.\n"
       "flags:\n"
       "  --admin-socket PATH     the node's admin socket (absolute, at most "
       "100\n"
       "                          bytes)\n"
       "Servers: RAFT_ID (* = leader), RAFT_ADDRESS, API_ADDRESS, RAFT_ROLE\n"
       "(voter|standby|spare, - = not in the Raft configuration), MEMBER (in "
       "the\n"
       "ledger's cluster module) and LEDGER_ROLE (the role the ledger "
       "wants).\n",
       false,
       RunClusterStatus},
      {"cluster add",
       {"FROM_KEY", "RAFT_ID", "RAFT_ADDRESS", "NODE_KEY_HEX"},
       {"home", "passphrase-file", "admin-socket", "grpc-address", "non-voter",
        "attest", "fee", "memo", "timeout-height", "chain-id", "sequence",
        "dry-run"},
       "sign a MsgAddNode with operator key FROM_KEY and send it over the "
       "admin socket",
       "RAFT_ID > 0; RAFT_ADDRESS a.b.c.d:port (IPv4, the node's Raft "
       "address);\n"
       "NODE_KEY_HEX the node's Ed25519 public key, 64 lowercase hex (printed "
       "by\n"
       "'ve-node init'). The node joins as a non-voter, catches up and is\n"
       "promoted to voter (unless --non-voter).\n"
       "flags:\n"
       "  --grpc-address HOST:PORT  the new node's API address (default "
       "none)\n"
       "  --non-voter             keep the node a non-voter (standby)\n"
       "  --attest                attach the new node's TPM quote: a "
       "challenge\n"
       "                          from the cluster (--node), quoted by the "
       "new\n"
       "                          node (--grpc-address); required when the\n"
       "                          chain requires attestation\n",
       true,
       RunClusterAdd},
      {"cluster remove",
       {"FROM_KEY", "RAFT_ID"},
       {"home", "passphrase-file", "admin-socket", "fee", "memo",
        "timeout-height", "chain-id", "sequence", "dry-run"},
       "sign a MsgRemoveNode of RAFT_ID with operator key FROM_KEY and send "
       "it over the admin socket",
       "The last voter is never removed. Stop the removed node afterwards.\n"
       "flags:\n",
       true,
       RunClusterRemove},
      {"cluster set-role",
       {"FROM_KEY", "RAFT_ID", "ROLE"},
       {"home", "passphrase-file", "admin-socket", "fee", "memo",
        "timeout-height", "chain-id", "sequence", "dry-run"},
       "sign a MsgSetNodeRole (ROLE voter|non-voter) with operator key "
       "FROM_KEY and send it over the admin socket",
       "flags:\n",
       true,
       RunClusterSetRole},
      {"attest quote",
       {},
       {"nonce", "purpose"},
       "the node's TPM quote (Node.Quote), bound to its node key",
       "Human output summarises it; --output json prints the evidence (the\n"
       "protobuf JSON of virtengine.attest.v1.Evidence) to save and check "
       "with\n"
       "'vectl attest verify'.\n"
       "flags:\n"
       "  --nonce HEX             the verifier's nonce, 1..64 bytes (default: "
       "32\n"
       "                          fresh random bytes, printed)\n"
       "  --purpose P             quote (default), join or evidence\n",
       false,
       RunAttestQuote},
      {"attest verify",
       {"FILE"},
       {"nonce", "purpose", "manifest"},
       "check saved evidence against the approved measurements (offline but\n"
       "for the allowlist, read from --node or --manifest)",
       "Checks the evidence's shape, purpose, nonce, the AK signature, the\n"
       "binding to its node key, the PCR digest and that the PCR values are "
       "an\n"
       "approved measurement in force; prints the measurement, or the precise\n"
       "reason and exits 1.\n"
       "flags:\n"
       "  --nonce HEX             the nonce you asked for (without it "
       "freshness\n"
       "                          is not checked, and a warning says so)\n"
       "  --purpose P             quote (default), join or evidence\n"
       "  --manifest FILE         check against the measurement of this image\n"
       "                          manifest (image/build's manifest.json)\n"
       "                          instead of the node's allowlist\n",
       false,
       RunAttestVerify},
      {"admin backup",
       {},
       {"admin-socket", "name"},
       "an online, verified backup of the node's ledger (Admin.Backup)",
       "The node writes a consistent checkpoint to <node home>/backups/NAME "
       "and\n"
       "verifies it by re-executing every block from genesis; prints the "
       "path,\n"
       "height, state digest, files and the number of blocks re-executed.\n"
       "--timeout defaults to 120s for this command.\n"
       "flags:\n"
       "  --name NAME             [a-z0-9][a-z0-9._-]{0,63} (default "
       "backup-<height>)\n"
       "  --admin-socket PATH     the node's admin socket (absolute, at most "
       "100\n"
       "                          bytes)\n"
       "Restoring is offline (there is no 'vectl admin restore'): stop the "
       "node,\n"
       "then run 've-node backup verify PATH' and\n"
       "'ve-node restore --home NODE_HOME --from PATH' (in a cluster, into a "
       "node\n"
       "initialised with --join true, adding --rejoin true).\n",
       false,
       RunAdminBackup},
      {"image install",
       {"FILE"},
       {"admin-socket"},
       "install an appliance image update (A/B) through the node's admin "
       "socket",
       "FILE is image/build's virtengine-VERSION.update.tar. The node checks "
       "it\n"
       "(manifest, SHA-256 of every part, the UKI's version, root hash and "
       "signing\n"
       "certificate, the version against the recorded minimum: a downgrade "
       "is\n"
       "refused) and stages it; ve-image-install.service writes the inactive "
       "slot,\n"
       "verifies it and reboots into it with 3 tries (docs/operator/image.md)."
       "\n"
       "--timeout defaults to 30m for this command.\n"
       "flags:\n"
       "  --admin-socket PATH     the node's admin socket (absolute, at most "
       "100\n"
       "                          bytes)\n",
       false,
       RunImageInstall},
      {"image status",
       {},
       {"admin-socket"},
       "the running image version, the minimum version and the last install",
       "",
       false,
       RunImageStatus},
      {"gov propose",
       {},
       {"home",
        "passphrase-file",
        "from",
        "title",
        "add-measurement-manifest",
        "allow-debug-image",
        "add-measurement",
        "version",
        "pcr",
        "retire-measurement",
        "set-param",
        "add-member",
        "remove-member",
        "remove-node",
        "fee",
        "memo",
        "timeout-height",
        "chain-id",
        "sequence",
        "dry-run"},
       "sign a governance proposal (MsgSubmitProposal) with member key --from "
       "and submit it",
       "flags:\n"
       "  --from KEY              the signing key, a governance member\n"
       "  --title TEXT            UTF-8, 1-256 bytes, no control characters\n"
       "the action, exactly one of:\n"
       "  --add-measurement-manifest FILE [--allow-debug-image]\n"
       "                          approve the measurement of an appliance "
       "image\n"
       "  --add-measurement NAME --version V --pcr N=HEX [--pcr N=HEX ...]\n"
       "                          approve a measurement: NAME "
       "[a-z0-9][a-z0-9._-]{0,63},\n"
       "                          V [A-Za-z0-9][A-Za-z0-9._+-]{0,63}, N a "
       "PCR 0-23\n"
       "                          (each once), HEX its SHA-256 value (64 hex "
       "digits)\n"
       "  --retire-measurement NAME --version V\n"
       "                          retire an approved measurement\n"
       "  --set-param KEY=VALUE   threshold_bps=1..10000, "
       "voting_period_blocks=\n"
       "                          1..10000000, "
       "attestation_required=true|false\n"
       "  --add-member ADDRESS    add a governance member (ve1...)\n"
       "  --remove-member ADDRESS remove a member (the last one stays)\n"
       "  --remove-node RAFT_ID   remove a cluster node (the cluster's "
       "checks)\n"
       "Here --version is the measurement's version ('vectl --version' "
       "prints\n"
       "vectl's). Prints the tx hash, its height and the new proposal's id "
       "(from\n"
       "the tx result's EventProposalSubmitted). The proposal then needs "
       "the\n"
       "members' votes ('vectl gov vote'); 'vectl gov params' shows how "
       "many.\n",
       true,
       RunGovPropose},
      {"gov vote",
       {},
       {"home", "passphrase-file", "from", "proposal", "yes", "no", "fee",
        "memo", "timeout-height", "chain-id", "sequence", "dry-run"},
       "vote yes or no on proposal --proposal with member key --from "
       "(MsgVote)",
       "flags:\n"
       "  --from KEY              the signing key, a governance member\n"
       "  --proposal ID           the proposal (see 'vectl gov list')\n"
       "  --yes, --no             the vote (exactly one)\n"
       "A member votes once per proposal. A proposal passes (and its action "
       "is\n"
       "executed in the same tx) once yes * 10000 >= threshold_bps * "
       "members,\n"
       "and is rejected once that can no longer happen. Prints the proposal's\n"
       "status after the vote: VOTING, PASSED, REJECTED or FAILED (passed "
       "but\n"
       "the action could not be carried out: the reason follows, exit 0).\n",
       true,
       RunGovVote},
      {"gov list",
       {},
       {},
       "every proposal: status, yes/no votes, expiry, title and action",
       "Status: VOTING, PASSED (executed), REJECTED, FAILED (passed, action "
       "not\n"
       "carried out: the reason is printed), EXPIRED (votes are taken while "
       "the\n"
       "height is below EXPIRY). Read on the leader (consistent).\n",
       false,
       RunGovList},
      {"gov params",
       {},
       {},
       "the governance parameters, the yes votes a proposal needs, and the "
       "members",
       "",
       false,
       RunGovParams},
      {"measurement list",
       {},
       {},
       "the measurement allowlist: name, version, PCR values, added and "
       "retired heights",
       "STATE is active or retired (RETIRED: the height it was retired at); "
       "ADDED\n"
       "the height it was approved at; PROPOSAL the proposal that added it\n"
       "(genesis: listed in the genesis). PCRS: index=SHA-256 value.\n",
       false,
       RunMeasurementList},
      {"measurement propose",
       {},
       {"home", "passphrase-file", "from", "manifest", "allow-debug-image",
        "title", "fee", "memo", "timeout-height", "chain-id", "sequence",
        "dry-run"},
       "propose approving an appliance image's measurement (= gov propose "
       "--add-measurement-manifest)",
       "flags:\n"
       "  --from KEY              the signing key, a governance member\n"
       "  --manifest FILE         the image's manifest.json\n"
       "  --allow-debug-image     also a debug image's (image/build --debug;\n"
       "                          refused otherwise: it has a root console)\n"
       "  --title TEXT            default: \"add measurement NAME VERSION\"\n",
       true,
       RunMeasurementPropose},
  };
  return *kCommands;
}

// "keys" -> true when some command starts with "keys ".
bool IsGroup(std::string_view path) {
  for (const CommandSpec& c : Commands()) {
    if (path.empty() ||
        (c.path.size() > path.size() && c.path.substr(0, path.size()) == path &&
         c.path[path.size()] == ' ')) {
      return true;
    }
  }
  return false;
}

const CommandSpec* FindCommand(std::string_view path) {
  for (const CommandSpec& c : Commands()) {
    if (c.path == path) return &c;
  }
  return nullptr;
}

// The required flags of the commands that take flags instead of
// arguments, shown in usage lines.
std::string_view RequiredFlags(std::string_view path) {
  if (path == "gov propose") return "--from KEY --title TEXT <action>";
  if (path == "gov vote") return "--from KEY --proposal ID --yes|--no";
  if (path == "measurement propose") return "--from KEY --manifest FILE";
  return "";
}

std::string Synopsis(const CommandSpec& c) {
  std::string s = absl::StrCat("vectl ", std::string(c.path), " [flags]");
  if (!RequiredFlags(c.path).empty()) {
    absl::StrAppend(&s, " ", std::string(RequiredFlags(c.path)));
  }
  for (std::string_view p : c.positionals)
    absl::StrAppend(&s, " ", std::string(p));
  return s;
}

std::string GroupHelp(std::string_view group) {
  std::string s;
  if (group.empty()) {
    s = absl::StrCat("vectl ", kVectlVersion,
                     ": the VirtEngine command-line tool\n\n"
                     "usage: vectl [flags] <command> [arguments]\n\n");
  } else {
    absl::StrAppend(&s, "usage: vectl ", std::string(group),
                    " <command> [flags] [arguments]\n\n");
  }
  s += "commands:\n";
  for (const CommandSpec& c : Commands()) {
    if (!group.empty() && (c.path.size() <= group.size() ||
                           c.path.substr(0, group.size()) != group ||
                           c.path[group.size()] != ' ')) {
      continue;
    }
    std::string left = std::string(c.path);
    if (!RequiredFlags(c.path).empty()) {
      absl::StrAppend(&left, " ", std::string(RequiredFlags(c.path)));
    }
    for (std::string_view p : c.positionals)
      absl::StrAppend(&left, " ", std::string(p));
    absl::StrAppend(&s, "  ", left, "\n      ", std::string(c.summary), "\n");
  }
  if (group.empty()) {
    absl::StrAppend(&s,
                    "  evidence export|verify|diff ...\n"
                    "      compliance evidence bundles (vectl evidence --help)"
                    "\n");
  }
  absl::StrAppend(&s, "\n", kGlobalHelp,
                  "Run 'vectl <command> --help' for a command's flags; "
                  "reference: docs/cli/vectl.md\n");
  return s;
}

std::string CommandHelp(const CommandSpec& c) {
  std::string s = absl::StrCat("usage: ", Synopsis(c), "\n\n",
                               std::string(c.summary), "\n");
  if (!c.details.empty()) absl::StrAppend(&s, "\n", std::string(c.details));
  if (std::find(c.flags.begin(), c.flags.end(), "dry-run") != c.flags.end() &&
      c.path.substr(0, 8) == "cluster ") {
    absl::StrAppend(&s, kAdminSocketHelp, kMembershipFlagsHelp);
  }
  if (c.path == "gov propose" || c.path == "measurement propose") {
    absl::StrAppend(&s, kManifestHelp);
  }
  if (c.path == "gov propose" || c.path == "gov vote" ||
      c.path == "measurement propose") {
    absl::StrAppend(&s, kGovTxFlagsHelp);
  }
  if (c.uses_store) absl::StrAppend(&s, "\n", kStoreHelp);
  absl::StrAppend(&s, "\n", kGlobalHelp);
  return s;
}

struct Parsed {
  std::vector<std::string> positionals;
  std::map<std::string, std::string> flags;
  std::map<std::string, std::vector<std::string>> repeated;
  absl::Status error;  // the first parse error, reported after --help
};

// `version_takes_value`: in the commands that list "version" among their
// flags (gov propose), --version V is a measurement version, not the global
// --version.
Parsed ParseTokens(const std::vector<std::string>& args,
                   bool version_takes_value) {
  Parsed p;
  auto fail = [&p](const std::string& msg) {
    if (p.error.ok()) p.error = UsageError(msg);
  };
  if (args.size() > kMaxArgs) {
    fail(absl::StrCat(args.size(), " arguments exceeds the limit of ",
                      kMaxArgs));
    return p;
  }
  bool only_positionals = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() > kMaxArgBytes) {
      fail(absl::StrCat("argument ", i + 1, " is longer than ", kMaxArgBytes,
                        " bytes"));
      continue;
    }
    if (only_positionals || a.size() < 2 || a[0] != '-') {
      p.positionals.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positionals = true;
      continue;
    }
    if (a == "-h") {
      p.flags["help"] = "";
      continue;
    }
    if (a[1] != '-') {
      fail(absl::StrCat("unknown flag ", a, " (flags are --name)"));
      continue;
    }
    const size_t eq = a.find('=');
    const std::string name =
        a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const FlagSpec* spec = FindFlag(name);
    if (spec == nullptr) {
      fail(absl::StrCat("unknown flag --", name));
      continue;
    }
    std::string value;
    if (spec->takes_value || (version_takes_value && name == "version")) {
      if (eq != std::string::npos) {
        value = a.substr(eq + 1);
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        fail(absl::StrCat("flag --", name, " needs a value"));
        continue;
      }
    } else if (eq != std::string::npos) {
      fail(absl::StrCat("flag --", name, " takes no value"));
      continue;
    }
    if (IsRepeatable(name)) {
      p.repeated[name].push_back(value);
      p.flags.emplace(name, value);
      continue;
    }
    if (p.flags.count(name) != 0) {
      fail(absl::StrCat("flag --", name, " given more than once"));
      continue;
    }
    p.flags[name] = value;
  }
  return p;
}

// Error messages can carry text from the node: control characters are
// shown as \xNN so that they never reach the terminal.
std::string WithoutControls(absl::string_view m) {
  constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char c : m) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) {
      out += "\\x";
      out.push_back(kHex[b >> 4U]);
      out.push_back(kHex[b & 0xFU]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// The command: the longest run of leading positionals naming a group or
// command.
struct Resolved {
  std::string path;
  size_t used = 0;
  const CommandSpec* cmd = nullptr;
};

Resolved Resolve(const Parsed& p) {
  Resolved r;
  while (r.used < p.positionals.size()) {
    const std::string next =
        r.path.empty() ? p.positionals[r.used]
                       : absl::StrCat(r.path, " ", p.positionals[r.used]);
    if (FindCommand(next) == nullptr && !IsGroup(next)) break;
    r.path = next;
    ++r.used;
  }
  r.cmd = FindCommand(r.path);
  return r;
}

int Report(const absl::Status& s, std::string_view command, std::ostream& err) {
  err << "error: " << WithoutControls(s.message()) << "\n";
  if (IsUsageError(s)) {
    err << "Run 'vectl " << command << (command.empty() ? "" : " ")
        << "--help' for usage.\n";
    return kExitUsage;
  }
  return kExitRuntime;
}

}  // namespace

int RunVectl(const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err, Env& env) {
  // `vectl evidence ...` is the compliance evidence tool (its own flags:
  // docs/compliance/README.md): export, verify, diff.
  if (!args.empty() && args[0] == "evidence") {
    // With a running node: src/cli/cmd_evidence.cc (evidence.h).
    return RunEvidence(std::vector<std::string>(args.begin() + 1, args.end()),
                       out, err, env);
  }
  // A command that lists "version" among its flags takes --version V;
  // anywhere else --version prints vectl's version.
  Parsed p = ParseTokens(args, /*version_takes_value=*/true);
  Resolved r = Resolve(p);
  const bool version_is_value =
      r.cmd != nullptr && std::find(r.cmd->flags.begin(), r.cmd->flags.end(),
                                    "version") != r.cmd->flags.end();
  if (!version_is_value) {
    p = ParseTokens(args, /*version_takes_value=*/false);
    r = Resolve(p);
  }
  const std::string path = r.path;
  const size_t used = r.used;
  const CommandSpec* cmd = r.cmd;
  if (p.flags.count("help") != 0) {
    out << (cmd != nullptr ? CommandHelp(*cmd) : GroupHelp(path));
    return kExitOk;
  }
  if (!version_is_value && p.flags.count("version") != 0) {
    out << "vectl " << kVectlVersion << "\n";
    return kExitOk;
  }
  if (!p.error.ok()) return Report(p.error, path, err);
  if (cmd == nullptr) {
    if (used < p.positionals.size()) {
      return Report(
          UsageError(absl::StrCat(
              "unknown command '", p.positionals[used], "'",
              path.empty() ? "" : absl::StrCat(" for 'vectl ", path, "'"))),
          path, err);
    }
    err << "error: missing command\n" << GroupHelp(path);
    return kExitUsage;
  }
  for (const auto& [name, value] : p.flags) {
    const bool allowed = GlobalFlags().count(name) != 0 ||
                         std::find(cmd->flags.begin(), cmd->flags.end(),
                                   name) != cmd->flags.end();
    if (!allowed) {
      return Report(UsageError(absl::StrCat("unknown flag --", name,
                                            " for 'vectl ", path, "'")),
                    path, err);
    }
  }
  std::vector<std::string> rest(
      p.positionals.begin() + static_cast<std::ptrdiff_t>(used),
      p.positionals.end());
  if (rest.size() < cmd->positionals.size()) {
    return Report(
        UsageError(absl::StrCat("missing argument ",
                                std::string(cmd->positionals[rest.size()]),
                                " (usage: ", Synopsis(*cmd), ")")),
        path, err);
  }
  if (rest.size() > cmd->positionals.size()) {
    return Report(UsageError(absl::StrCat("unexpected argument '",
                                          rest[cmd->positionals.size()],
                                          "' (usage: ", Synopsis(*cmd), ")")),
                  path, err);
  }

  Context ctx{out,
              err,
              env,
              path,
              std::move(rest),
              std::move(p.flags),
              false,
              "",
              std::chrono::milliseconds(10000),
              std::move(p.repeated)};
  if (std::optional<std::string> o = ctx.Flag("output"); o.has_value()) {
    if (*o == "json") {
      ctx.json = true;
    } else if (*o != "text") {
      return Report(UsageError(absl::StrCat("--output: \"", o->substr(0, 32),
                                            "\" is not text or json")),
                    path, err);
    }
  }
  ctx.node = ctx.FlagOrEnv("node", "VECTL_NODE").value_or(kDefaultNode);
  const char* node_field = ctx.Has("node") ? "--node" : "VECTL_NODE";
  if (absl::Status s = ValidateNodeAddress(node_field, ctx.node); !s.ok()) {
    return Report(UsageError(s), path, err);
  }
  if (std::optional<std::string> t = ctx.Flag("timeout"); t.has_value()) {
    absl::StatusOr<std::chrono::milliseconds> ms =
        ParseTimeout("--timeout", *t);
    if (!ms.ok()) return Report(UsageError(ms.status()), path, err);
    ctx.timeout = *ms;
  }
  absl::Status s = cmd->run(ctx);
  if (!s.ok()) return Report(s, path, err);
  return kExitOk;
}

}  // namespace virtengine::cli
