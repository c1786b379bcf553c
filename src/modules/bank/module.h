// The bank as a ledger module: MsgSend, the balance query, genesis and the
// supply invariant. Fees and sequences are charged by the chain's ante step
// through bank::Keeper (src/ledger/chain), before the gate.
#ifndef VIRTENGINE_SRC_MODULES_BANK_MODULE_H_
#define VIRTENGINE_SRC_MODULES_BANK_MODULE_H_

#include <string>
#include <string_view>
#include <vector>

#include "src/ledger/module/module.h"
#include "src/modules/bank/keeper.h"

namespace virtengine::bank {

class BankModule final : public ledger::Module {
 public:
  std::string_view name() const override { return kModuleName; }
  // MsgSend, gate requirement "none" (the per-tier transfer limits of
  // DOMAIN.md need the VEID module).
  std::vector<ledger::MessageSpec> messages() const override;
  // MsgSend: from_address must be the signer; emits EventTransfer. The bank
  // records nothing in the audit chain per transfer.
  absl::Status Handle(ledger::Context& ctx,
                      const google::protobuf::Any& msg) const override;
  // "balance": QueryBalanceRequest -> QueryBalanceResponse (amount, next
  // sequence, height); "params": empty request -> GenesisState with the fee
  // denomination and minimum fee only.
  absl::StatusOr<std::string> Query(const ledger::QueryContext& ctx,
                                    std::string_view path,
                                    std::string_view request) const override;
  absl::Status InitGenesis(ledger::Context& ctx,
                           std::string_view genesis) const override;
  absl::StatusOr<std::string> ExportGenesis(
      const ledger::QueryContext& ctx) const override;
  absl::Status CheckInvariants(const ledger::QueryContext& ctx) const override;
};

// The balance query over a read-only view of the bank's prefix.
absl::StatusOr<v1::QueryBalanceResponse> QueryBalance(
    const ledger::PrefixView& store, std::string_view address,
    std::string_view denom, uint64_t height);

}  // namespace virtengine::bank

#endif  // VIRTENGINE_SRC_MODULES_BANK_MODULE_H_
