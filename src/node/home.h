#ifndef VIRTENGINE_SRC_NODE_HOME_H_
#define VIRTENGINE_SRC_NODE_HOME_H_

// The node's home directory (--home), every file opened beneath it through
// the path validator:
//   config/node.conf     NodeConfig, protobuf text format (0600)
//   config/genesis.json  GenesisDoc, protobuf JSON mapping (0600)
//   keys/                the key store (security/keys): key "node"
//   data/ledger/         RocksDB (the ledger)
//   data/raft/           the Raft log (libraft)
// Formats and every key: docs/operator/node.md.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "security/crypto/secret_bytes.h"
#include "security/keys/key_store.h"
#include "security/path/path.h"
#include "src/api/node/v1/config.pb.h"
#include "src/ledger/chain/ledger.h"

namespace virtengine::node {

inline constexpr size_t kMaxConfigBytes = 1 << 20;
inline constexpr size_t kMaxGenesisBytes = 64 << 20;
inline constexpr char kNodeKeyName[] = "node";

// Fills every unset field with its documented default.
void ApplyDefaults(v1::NodeConfig* config);
// INVALID_ARGUMENT naming the key for a value out of range.
absl::Status ValidateConfig(const v1::NodeConfig& config);
absl::Status ValidateGenesis(const v1::GenesisDoc& genesis);

// Parses a config file's text (size-limited, unknown keys refused).
absl::StatusOr<v1::NodeConfig> ParseConfig(std::string_view text);
absl::StatusOr<v1::GenesisDoc> ParseGenesis(std::string_view json);
absl::StatusOr<std::string> GenesisToJson(const v1::GenesisDoc& genesis);

// Opens an absolute directory, creating its last component (0700) when
// `create` and it does not exist.
absl::StatusOr<security::path::PathRoot> OpenDir(const std::string& absolute,
                                                 bool create);
// Reads a passphrase file: refused (FAILED_PRECONDITION) when group or
// others may read it; a trailing newline is dropped.
absl::StatusOr<crypto::SecretBytes> ReadPassphraseFile(
    const std::string& absolute);

struct InitOptions {
  std::string home;  // absolute
  std::string chain_id;
  std::string passphrase_file;  // absolute
  std::string moniker;
  std::string grpc_address, raft_address, metrics_address;  // "" = default
  std::string fee_denom = "uve";
  uint64_t min_fee = 1;
  // "ve1...=1000000uve" entries funded at genesis.
  std::vector<std::string> genesis_accounts;
  std::vector<std::string> operators;  // ve1 addresses (cluster operators)
  uint64_t raft_id = 1;
  bool join = false;  // genesis still lists this node (replace it later)
};

// Writes config, genesis (this node as the one voter) and a new node key.
// ALREADY_EXISTS when the home already holds a genesis.
absl::Status InitHome(const InitOptions& options);

// Adds a voter to <home>/config/genesis.json (before the first start):
// INVALID_ARGUMENT for a bad or duplicate voter, FAILED_PRECONDITION once
// the node has started (data/ledger exists).
absl::Status AddGenesisVoter(const std::string& home,
                             const v1::GenesisVoter& voter);
// Replaces <home>/config/genesis.json with the genesis in `file` (another
// node's), before the first start; the chain id must match.
absl::Status ImportGenesis(const std::string& home, const std::string& file);
// The node public key of <home>'s own genesis entry (the voter whose raft
// id is the config's), as written by InitHome.
absl::StatusOr<v1::GenesisVoter> OwnVoter(const std::string& home);

// A block signer backed by the key store's active "node" key.
class StoreBlockSigner final : public ledger::BlockSigner {
 public:
  static absl::StatusOr<std::unique_ptr<StoreBlockSigner>> Open(
      std::unique_ptr<keys::KeyStore> store);
  const crypto::Ed25519PublicKey& public_key() const override { return key_; }
  absl::StatusOr<crypto::Ed25519Signature> Sign(
      crypto::ByteView message) const override;

 private:
  StoreBlockSigner(std::unique_ptr<keys::KeyStore> store, std::string key_id,
                   crypto::Ed25519PublicKey key)
      : store_(std::move(store)), key_id_(std::move(key_id)), key_(key) {}
  std::unique_ptr<keys::KeyStore> store_;
  std::string key_id_;
  crypto::Ed25519PublicKey key_;
};

}  // namespace virtengine::node

#endif  // VIRTENGINE_SRC_NODE_HOME_H_
