// Internal to src/cli: what every command implementation gets, and how it
// reports errors. A command returns absl::Status; a usage or configuration
// error carries the "usage" payload (UsageError) and exits 2, any other
// error exits 1.
#ifndef VIRTENGINE_SRC_CLI_COMMAND_H_
#define VIRTENGINE_SRC_CLI_COMMAND_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/any.pb.h"
#include "security/crypto/secret_bytes.h"
#include "security/keys/key_store.h"
#include "security/path/path.h"
#include "src/api/bank/v1/bank.pb.h"
#include "src/cli/vectl.h"

namespace virtengine::cli {

// Marks `s` as a usage/configuration error (exit 2).
absl::Status UsageError(absl::Status s);
absl::Status UsageError(std::string_view message);
bool IsUsageError(const absl::Status& s);

// Adds "<what>: " in front of the message, keeping the code and payloads.
absl::Status Prefixed(std::string_view what, const absl::Status& s);

// Text output's tables: each row indented by two spaces, left-aligned
// columns separated by two spaces (no trailing padding).
std::string TextTable(const std::vector<std::vector<std::string>>& rows);

struct Context {
  std::ostream& out;
  std::ostream& err;
  Env& env;
  std::string command;                       // "keys add"
  std::vector<std::string> args;             // positional arguments
  std::map<std::string, std::string> flags;  // name (no "--") -> value
  bool json = false;
  std::string node;
  std::chrono::milliseconds timeout{10000};
  // Every value of a repeatable flag (--pcr), in command-line order; its
  // first value is also in `flags`.
  std::map<std::string, std::vector<std::string>> repeated;

  bool Has(const std::string& flag) const { return flags.count(flag) != 0; }
  std::optional<std::string> Flag(const std::string& flag) const;
  // Every value of `flag` (repeatable or not), in command-line order.
  std::vector<std::string> FlagValues(const std::string& flag) const;
  // flag, else environment variable, else nullopt.
  std::optional<std::string> FlagOrEnv(const std::string& flag,
                                       const std::string& var) const;
};

// --home, else VECTL_HOME, else $HOME/.vectl; absolute and normalised.
absl::StatusOr<std::string> HomeDir(const Context& ctx);

// The node's admin socket: --admin-socket, else VECTL_ADMIN_SOCKET, else
// $HOME/.virtengine/admin.sock; validated (ValidateAdminSocketPath).
absl::StatusOr<std::string> ResolveAdminSocket(const Context& ctx);

// An opened key store and the home it lives in.
struct OpenedStore {
  security::path::PathRoot home;
  std::unique_ptr<keys::KeyStore> store;
  bool created = false;
};

// Opens the key store under the home (passphrase from --passphrase-file,
// VECTL_PASSPHRASE_FILE or the terminal). With `create_if_missing`, a
// missing home or store is created (the passphrase is asked twice on a
// terminal).
absl::StatusOr<OpenedStore> OpenStore(const Context& ctx,
                                      bool create_if_missing);

// The passphrase that protects an export file (--export-passphrase-file,
// VECTL_EXPORT_PASSPHRASE_FILE or the terminal; asked twice if `confirm`).
absl::StatusOr<crypto::SecretBytes> ExportPassphrase(const Context& ctx,
                                                     bool confirm);

// ---- signed transactions (cmd_tx.cc), shared by every command that signs --

// The transaction flags (--fee --memo --timeout-height --chain-id --sequence
// --dry-run --wait), validated; a command accepts the subset its table
// entry lists (absent flags take their defaults).
struct TxFlags {
  bank::v1::Coin fee;
  std::string memo;
  uint64_t timeout_height = 0;
  std::optional<std::string> chain_id;  // else the node's (Status)
  std::optional<uint64_t> sequence;     // else the node's (QueryBalance)
  bool dry_run = false;
  bool wait = false;
};
// Usage errors (exit 2) naming the flag.
absl::StatusOr<TxFlags> ParseTxFlags(const Context& ctx);

// A signed, self-checked TxRaw.
struct SignedTx {
  std::string bytes;     // TxRaw
  std::string hash_hex;  // SHA-256 of `bytes`
  std::string chain_id;
  uint64_t sequence = 0;
  std::string signer;  // the ve1 address of FROM_KEY
};

// Builds the messages of a transaction once the signer's address is known.
using TxMessages =
    std::function<absl::StatusOr<std::vector<google::protobuf::Any>>(
        const std::string& signer)>;

// Opens the key store, checks that `from_key` is an active Ed25519
// TX_SIGNATURE key, asks ctx.node for the chain id and the sequence when the
// flags do not give them, builds TxBody + AuthInfo, has the key store sign,
// and checks the result with DecodeTx + VerifyTxSignature. Validate every
// input before calling: this touches the key store first.
absl::StatusOr<SignedTx> BuildSignedTx(const Context& ctx,
                                       const std::string& from_key,
                                       const TxFlags& flags,
                                       const TxMessages& messages);

// --dry-run output: the hex of the TxRaw, or with --output json
// {"tx","tx_hash","chain_id","sequence"}.
void PrintDryRun(const Context& ctx, const SignedTx& tx);

absl::Status RunKeysAdd(Context& ctx);
absl::Status RunKeysList(Context& ctx);
absl::Status RunKeysShow(Context& ctx);
absl::Status RunKeysExport(Context& ctx);
absl::Status RunKeysImport(Context& ctx);
absl::Status RunTxBankSend(Context& ctx);
absl::Status RunQueryBankBalance(Context& ctx);
absl::Status RunQueryTx(Context& ctx);
absl::Status RunStatus(Context& ctx);
absl::Status RunReceiptGet(Context& ctx);
absl::Status RunReceiptVerify(Context& ctx);
absl::Status RunClusterStatus(Context& ctx);
absl::Status RunClusterAdd(Context& ctx);
absl::Status RunClusterRemove(Context& ctx);
absl::Status RunClusterSetRole(Context& ctx);
absl::Status RunAdminBackup(Context& ctx);
absl::Status RunAttestQuote(Context& ctx);
absl::Status RunAttestVerify(Context& ctx);
absl::Status RunGovPropose(Context& ctx);
absl::Status RunGovVote(Context& ctx);
absl::Status RunGovList(Context& ctx);
absl::Status RunGovParams(Context& ctx);
absl::Status RunMeasurementList(Context& ctx);
absl::Status RunMeasurementPropose(Context& ctx);

// Default fee of `tx bank send` (docs/cli/vectl.md).
inline constexpr char kDefaultFee[] = "10uve";
inline constexpr char kDefaultDenom[] = "uve";
inline constexpr char kDefaultNode[] = "127.0.0.1:9090";
// Deadline of membership changes and backups unless --timeout is given.
inline constexpr std::chrono::milliseconds kAdminDefaultTimeout{120000};

}  // namespace virtengine::cli

#endif  // VIRTENGINE_SRC_CLI_COMMAND_H_
