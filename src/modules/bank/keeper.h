#ifndef VIRTENGINE_SRC_MODULES_BANK_KEEPER_H_
#define VIRTENGINE_SRC_MODULES_BANK_KEEPER_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/api/bank/v1/bank.pb.h"
#include "src/ledger/store/state_view.h"

namespace virtengine::bank {

inline constexpr std::string_view kModuleName = "bank";
inline constexpr std::string_view kMsgSendType = "/virtengine.bank.v1.MsgSend";
// Fees are moved to this module account, so the supply never changes.
inline constexpr std::string_view kFeeCollector = "module:fee_collector";

// The bank's state, seen only through its own "bank/" prefix:
//   bal/<address>/<denom>  -> u64be amount (absent = 0)
//   supply/<denom>         -> u64be total of all balances
//   seq/<address>          -> u64be next sequence number
//   params                 -> serialised GenesisState without balances
// Amounts are unsigned 64-bit; every addition is overflow-checked.
class Keeper {
 public:
  explicit Keeper(ledger::PrefixView store) : store_(store) {}

  // Validates and writes the genesis state: every address bech32 "ve1…"
  // (or a module account), every denomination valid, no duplicates, no
  // total overflow. INVALID_ARGUMENT names the offending entry.
  absl::Status InitGenesis(const bank::v1::GenesisState& genesis);
  absl::StatusOr<bank::v1::GenesisState> ExportGenesis() const;

  absl::StatusOr<uint64_t> Balance(std::string_view address,
                                   std::string_view denom) const;
  absl::StatusOr<uint64_t> Supply(std::string_view denom) const;
  absl::StatusOr<uint64_t> Sequence(std::string_view address) const;
  absl::StatusOr<bank::v1::GenesisState> Params() const;

  // FAILED_PRECONDITION "bank: insufficient funds: <addr> has N<denom>,
  // needs M<denom>" when the sender is short; nothing is written on error.
  absl::Status Send(std::string_view from, std::string_view to,
                    std::string_view denom, uint64_t amount);

  // CheckTx and DeliverTx: the fee must be in the fee denomination and at
  // least the minimum (INVALID_ARGUMENT otherwise); it moves to the fee
  // collector (FAILED_PRECONDITION when the payer cannot afford it).
  absl::Status ChargeFee(std::string_view payer, std::string_view denom,
                         uint64_t amount);

  // Replay protection: FAILED_PRECONDITION "bank: sequence mismatch for
  // <addr>: expected N, got M" unless `sequence` is the next one; then
  // advances it.
  absl::Status CheckAndIncrementSequence(std::string_view address,
                                         uint64_t sequence);

  // Executes a MsgSend signed by `signer` (from_address must equal it).
  absl::Status HandleSend(std::string_view signer,
                          const bank::v1::MsgSend& msg);

  // The supply invariant: for every denomination the balances add up to
  // the recorded supply. INTERNAL naming the denomination otherwise.
  absl::Status CheckSupplyInvariant() const;

 private:
  absl::StatusOr<uint64_t> ReadU64(std::string_view key) const;
  void WriteU64(std::string_view key, uint64_t value);
  absl::Status Credit(std::string_view to, std::string_view denom,
                      uint64_t amount);

  ledger::PrefixView store_;
};

// Validates an account address ("ve1…", 20-byte payload) or a module
// account ("module:<name>").
absl::Status ValidateAccount(std::string_view field, std::string_view address);

}  // namespace virtengine::bank

#endif  // VIRTENGINE_SRC_MODULES_BANK_KEEPER_H_
