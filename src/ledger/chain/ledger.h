#ifndef VIRTENGINE_SRC_LEDGER_CHAIN_LEDGER_H_
#define VIRTENGINE_SRC_LEDGER_CHAIN_LEDGER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "security/crypto/ed25519.h"
#include "src/api/bank/v1/bank.pb.h"
#include "src/api/ledger/v1/ledger.pb.h"
#include "src/ledger/merkle/tree.h"
#include "src/ledger/store/state_view.h"
#include "src/ledger/store/store.h"
#include "src/ledger/tx/tx.h"

namespace virtengine::ledger {

inline constexpr std::string_view kBlockSignDomain = "virtengine/block/v1";

struct Genesis {
  std::string chain_id;
  int64_t genesis_time_unix_nano = 0;
  bank::v1::GenesisState bank;
};

// Transaction result codes (TxResult.code).
enum TxCode : uint32_t {
  kTxOk = 0,
  kTxRejected = 1,        // ante checks failed at execution (should not happen
                          // for a tx that passed CheckTx in the same state)
  kTxUnknownMessage = 2,  // no module handles the message type
  kTxMessageFailed = 3,   // a message failed; its writes were discarded
  kTxExpired = 4,         // timeout_height passed
};

// The ledger state machine over one RocksDB store. Not thread-safe: the
// consensus thread owns it (CheckTx callers serialise through the node).
class Ledger {
 public:
  static absl::StatusOr<std::unique_ptr<Ledger>> Open(
      const std::string& db_dir, StoreOptions options = {});
  ~Ledger();

  // Writes the genesis state at height 0. FAILED_PRECONDITION when the
  // store already holds a chain.
  absl::Status InitGenesis(const Genesis& genesis);

  // Admission: decode, limits, signature, sequence (against committed state
  // plus earlier admitted txs), fee and balance. INVALID_ARGUMENT,
  // UNAUTHENTICATED or FAILED_PRECONDITION with the reason; nothing written.
  absl::StatusOr<DecodedTx> CheckTx(std::string_view raw);

  // Executes `txs` (each admitted by CheckTx) as block height()+1 at
  // `time_unix_nano` (clamped to be no earlier than the previous block),
  // signs the header with `proposer`, and commits the block, its writes,
  // the ledger tree nodes and indexes in ONE write batch.
  absl::StatusOr<v1::Block> ExecuteBlock(
      const std::vector<DecodedTx>& txs, int64_t time_unix_nano,
      const crypto::Ed25519PrivateKey& proposer);

  uint64_t height() const { return height_; }
  const std::string& chain_id() const { return chain_id_; }
  const crypto::Digest32& state_digest() const { return state_digest_; }

  absl::StatusOr<v1::Block> GetBlock(uint64_t height) const;
  // The committed tx and its block height; NOT_FOUND when unknown.
  absl::StatusOr<std::pair<v1::Block, uint32_t>> GetTx(
      const crypto::Digest32& tx_hash) const;
  absl::StatusOr<v1::Receipt> GetReceipt(const crypto::Digest32& tx_hash) const;
  absl::StatusOr<bank::v1::QueryBalanceResponse> QueryBalance(
      std::string_view address, std::string_view denom) const;
  // Runs every module invariant on committed state.
  absl::Status CheckInvariants() const;

 private:
  explicit Ledger(std::unique_ptr<Store> store);
  absl::Status Load();
  v1::TxResult Deliver(StateView* block, const DecodedTx& tx, uint64_t height,
                       std::vector<v1::Event>* events);
  absl::Status Ante(StateView* view, const DecodedTx& tx) const;

  std::unique_ptr<Store> store_;
  class StoreNodes;
  std::unique_ptr<StoreNodes> nodes_;
  std::unique_ptr<merkle::MerkleTree> tree_;
  std::unique_ptr<StateView> check_state_;  // committed state + admitted txs
  std::string chain_id_;
  uint64_t height_ = 0;
  int64_t last_time_ = 0;
  std::string last_header_hash_;
  crypto::Digest32 state_digest_{};
};

// Verifies a receipt offline: the header signature by `node_key` (or by the
// key named in the header when `node_key` is empty), that the header's
// ledger root and size match, and the RFC 6962 inclusion of the tx hash.
absl::Status VerifyReceipt(const v1::Receipt& receipt,
                           std::string_view node_key);

}  // namespace virtengine::ledger

#endif  // VIRTENGINE_SRC_LEDGER_CHAIN_LEDGER_H_
