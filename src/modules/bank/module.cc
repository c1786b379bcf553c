#include "src/modules/bank/module.h"

#include "absl/strings/str_cat.h"

namespace virtengine::bank {

std::vector<ledger::MessageSpec> BankModule::messages() const {
  return {ledger::MessageSpec{std::string(kMsgSendType), {}}};
}

absl::Status BankModule::Handle(ledger::Context& ctx,
                                const google::protobuf::Any& msg) const {
  v1::MsgSend send;
  if (absl::Status s = ledger::ParseStrict("bank: MsgSend", msg.value(), &send);
      !s.ok()) {
    return s;
  }
  Keeper bank(ctx.store());
  if (absl::Status s = bank.HandleSend(ctx.signer(), send); !s.ok()) return s;
  v1::EventTransfer ev;
  ev.set_from_address(send.from_address());
  ev.set_to_address(send.to_address());
  *ev.mutable_amount() = send.amount();
  ctx.events().Emit(ev);
  return absl::OkStatus();
}

absl::StatusOr<v1::QueryBalanceResponse> QueryBalance(
    const ledger::PrefixView& store, std::string_view address,
    std::string_view denom, uint64_t height) {
  if (absl::Status s = ValidateAccount("address", address); !s.ok()) return s;
  const Keeper bank(store);
  absl::StatusOr<uint64_t> bal = bank.Balance(address, denom);
  if (!bal.ok()) return bal.status();
  absl::StatusOr<uint64_t> seq = bank.Sequence(address);
  if (!seq.ok()) return seq.status();
  v1::QueryBalanceResponse r;
  r.mutable_balance()->set_denom(std::string(denom));
  r.mutable_balance()->set_amount(*bal);
  r.set_sequence(*seq);
  r.set_height(height);
  return r;
}

absl::StatusOr<std::string> BankModule::Query(const ledger::QueryContext& ctx,
                                              std::string_view path,
                                              std::string_view request) const {
  if (path == "balance") {
    v1::QueryBalanceRequest req;
    if (absl::Status s =
            ledger::ParseStrict("bank: QueryBalanceRequest", request, &req);
        !s.ok()) {
      return s;
    }
    absl::StatusOr<v1::QueryBalanceResponse> r =
        QueryBalance(ctx.store(), req.address(), req.denom(), ctx.height());
    if (!r.ok()) return r.status();
    return r->SerializeAsString();
  }
  if (path == "params") {
    if (!request.empty()) {
      return absl::InvalidArgumentError("bank: params takes no request");
    }
    absl::StatusOr<v1::GenesisState> p = Keeper(ctx.store()).Params();
    if (!p.ok()) return p.status();
    return p->SerializeAsString();
  }
  return absl::NotFoundError(
      absl::StrCat("bank: unknown query path \"", std::string(path), "\""));
}

absl::Status BankModule::InitGenesis(ledger::Context& ctx,
                                     std::string_view genesis) const {
  v1::GenesisState g;
  if (absl::Status s = ledger::ParseStrict("bank genesis", genesis, &g);
      !s.ok()) {
    return s;
  }
  return Keeper(ctx.store()).InitGenesis(g);
}

absl::StatusOr<std::string> BankModule::ExportGenesis(
    const ledger::QueryContext& ctx) const {
  absl::StatusOr<v1::GenesisState> g = Keeper(ctx.store()).ExportGenesis();
  if (!g.ok()) return g.status();
  return g->SerializeAsString();
}

absl::Status BankModule::CheckInvariants(
    const ledger::QueryContext& ctx) const {
  return Keeper(ctx.store()).CheckSupplyInvariant();
}

}  // namespace virtengine::bank
