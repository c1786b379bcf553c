#include "src/modules/bank/keeper.h"

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "security/validate/address.h"
#include "security/validate/identifier.h"

namespace virtengine::bank {

namespace {

std::string EncodeU64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

std::string S(std::string_view v) { return std::string(v); }

std::string BalanceKey(std::string_view address, std::string_view denom) {
  return absl::StrCat("bal/", S(address), "/", S(denom));
}
std::string SupplyKey(std::string_view denom) {
  return absl::StrCat("supply/", S(denom));
}
std::string SeqKey(std::string_view address) {
  return absl::StrCat("seq/", S(address));
}

absl::Status ValidateDenom(std::string_view field, std::string_view denom) {
  return validate::ValidateIdentifier(field, denom, validate::kDenom);
}

}  // namespace

absl::Status ValidateAccount(std::string_view field, std::string_view address) {
  if (absl::StartsWith(S(address), "module:")) {
    return validate::ValidateIdentifier(field, address.substr(7),
                                        validate::kLowerIdentifier);
  }
  return validate::ValidateAddress(field, address).status();
}

absl::StatusOr<uint64_t> Keeper::ReadU64(std::string_view key) const {
  absl::StatusOr<std::optional<std::string>> v = store_.Get(key);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return 0;
  const std::string& b = **v;
  if (b.size() != 8) {
    return absl::DataLossError(
        absl::StrCat("bank: corrupt value under ", S(key)));
  }
  uint64_t out = 0;
  for (char c : b) out = (out << 8) | static_cast<uint8_t>(c);
  return out;
}

void Keeper::WriteU64(std::string_view key, uint64_t value) {
  if (value == 0) {
    store_.Delete(key);
  } else {
    store_.Put(key, EncodeU64(value));
  }
}

absl::Status Keeper::InitGenesis(const bank::v1::GenesisState& genesis) {
  if (absl::Status s =
          ValidateDenom("bank genesis: fee_denom", genesis.fee_denom());
      !s.ok()) {
    return s;
  }
  std::map<std::string, uint64_t> supply;
  std::map<std::string, bool> seen;
  for (const bank::v1::Balance& b : genesis.balances()) {
    if (absl::Status s = ValidateAccount("bank genesis: address", b.address());
        !s.ok()) {
      return s;
    }
    for (const bank::v1::Coin& c : b.coins()) {
      if (absl::Status s = ValidateDenom("bank genesis: denom", c.denom());
          !s.ok()) {
        return s;
      }
      const std::string key = BalanceKey(b.address(), c.denom());
      if (seen[key]) {
        return absl::InvalidArgumentError(
            absl::StrCat("bank genesis: duplicate balance for ", b.address(),
                         " in ", c.denom()));
      }
      seen[key] = true;
      uint64_t& total = supply[c.denom()];
      if (total + c.amount() < total) {
        return absl::InvalidArgumentError(absl::StrCat(
            "bank genesis: supply of ", c.denom(), " overflows 2^64"));
      }
      total += c.amount();
      WriteU64(key, c.amount());
    }
  }
  for (const auto& [denom, total] : supply) WriteU64(SupplyKey(denom), total);
  bank::v1::GenesisState params;
  params.set_fee_denom(genesis.fee_denom());
  params.set_min_fee(genesis.min_fee());
  store_.Put("params", params.SerializeAsString());
  return absl::OkStatus();
}

absl::StatusOr<bank::v1::GenesisState> Keeper::Params() const {
  absl::StatusOr<std::optional<std::string>> v = store_.Get("params");
  if (!v.ok()) return v.status();
  bank::v1::GenesisState p;
  if (!v->has_value() || !p.ParseFromString(**v)) {
    return absl::FailedPreconditionError("bank: parameters missing");
  }
  return p;
}

absl::StatusOr<bank::v1::GenesisState> Keeper::ExportGenesis() const {
  absl::StatusOr<bank::v1::GenesisState> out = Params();
  if (!out.ok()) return out;
  std::map<std::string, bank::v1::Balance*> by_addr;
  absl::Status scan_err;
  absl::Status s =
      store_.Scan("bal/", [&](std::string_view k, std::string_view v) {
        // k = bal/<address>/<denom>; addresses and denominations contain no '/'
        // except denominations, so split at the first '/' after the address.
        const std::string_view rest = k.substr(4);
        const size_t slash = rest.find('/');
        if (slash == std::string_view::npos || v.size() != 8) {
          scan_err =
              absl::DataLossError(absl::StrCat("bank: corrupt key ", S(k)));
          return false;
        }
        const std::string addr(rest.substr(0, slash));
        bank::v1::Balance*& bal = by_addr[addr];
        if (bal == nullptr) {
          bal = out->add_balances();
          bal->set_address(addr);
        }
        uint64_t amount = 0;
        for (char c : v) amount = (amount << 8) | static_cast<uint8_t>(c);
        bank::v1::Coin* coin = bal->add_coins();
        coin->set_denom(std::string(rest.substr(slash + 1)));
        coin->set_amount(amount);
        return true;
      });
  if (!s.ok()) return s;
  if (!scan_err.ok()) return scan_err;
  return out;
}

absl::StatusOr<uint64_t> Keeper::Balance(std::string_view address,
                                         std::string_view denom) const {
  return ReadU64(BalanceKey(address, denom));
}

absl::StatusOr<uint64_t> Keeper::Supply(std::string_view denom) const {
  return ReadU64(SupplyKey(denom));
}

absl::StatusOr<uint64_t> Keeper::Sequence(std::string_view address) const {
  return ReadU64(SeqKey(address));
}

absl::Status Keeper::Credit(std::string_view to, std::string_view denom,
                            uint64_t amount) {
  absl::StatusOr<uint64_t> have = Balance(to, denom);
  if (!have.ok()) return have.status();
  if (*have + amount < *have) {
    return absl::FailedPreconditionError(absl::StrCat(
        "bank: balance of ", S(to), " in ", S(denom), " would overflow"));
  }
  WriteU64(BalanceKey(to, denom), *have + amount);
  return absl::OkStatus();
}

absl::Status Keeper::Send(std::string_view from, std::string_view to,
                          std::string_view denom, uint64_t amount) {
  absl::StatusOr<uint64_t> have = Balance(from, denom);
  if (!have.ok()) return have.status();
  if (*have < amount) {
    return absl::FailedPreconditionError(
        absl::StrCat("bank: insufficient funds: ", S(from), " has ", *have,
                     S(denom), ", needs ", amount, S(denom)));
  }
  if (from == to) return absl::OkStatus();
  // Check the credit first so that nothing is written on error.
  absl::StatusOr<uint64_t> dest = Balance(to, denom);
  if (!dest.ok()) return dest.status();
  if (*dest + amount < *dest) {
    return absl::FailedPreconditionError(absl::StrCat(
        "bank: balance of ", S(to), " in ", S(denom), " would overflow"));
  }
  WriteU64(BalanceKey(from, denom), *have - amount);
  return Credit(to, denom, amount);
}

absl::Status Keeper::ChargeFee(std::string_view payer, std::string_view denom,
                               uint64_t amount) {
  absl::StatusOr<bank::v1::GenesisState> p = Params();
  if (!p.ok()) return p.status();
  if (amount < p->min_fee()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bank: fee ", amount, S(denom), " is below the minimum of ",
        p->min_fee(), p->fee_denom()));
  }
  if (amount == 0) return absl::OkStatus();
  if (denom != p->fee_denom()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bank: fees are paid in ", p->fee_denom(), ", not ", S(denom)));
  }
  return Send(payer, kFeeCollector, denom, amount);
}

absl::Status Keeper::CheckAndIncrementSequence(std::string_view address,
                                               uint64_t sequence) {
  absl::StatusOr<uint64_t> next = Sequence(address);
  if (!next.ok()) return next.status();
  if (sequence != *next) {
    return absl::FailedPreconditionError(
        absl::StrCat("bank: sequence mismatch for ", S(address), ": expected ",
                     *next, ", got ", sequence));
  }
  WriteU64(SeqKey(address), *next + 1);
  return absl::OkStatus();
}

absl::Status Keeper::HandleSend(std::string_view signer,
                                const bank::v1::MsgSend& msg) {
  // The signer's address derives from its verified key, so a from_address
  // equal to it needs no second decoding.
  if (msg.from_address() != signer) {
    if (absl::Status s =
            ValidateAccount("MsgSend.from_address", msg.from_address());
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s =
          validate::ValidateAddress("MsgSend.to_address", msg.to_address())
              .status();
      !s.ok()) {
    return s;
  }
  if (msg.from_address() != signer) {
    return absl::PermissionDeniedError(
        absl::StrCat("bank: MsgSend.from_address ", msg.from_address(),
                     " is not the signer ", S(signer)));
  }
  if (absl::Status s =
          ValidateDenom("MsgSend.amount.denom", msg.amount().denom());
      !s.ok()) {
    return s;
  }
  if (msg.amount().amount() == 0) {
    return absl::InvalidArgumentError("bank: MsgSend.amount must be positive");
  }
  return Send(msg.from_address(), msg.to_address(), msg.amount().denom(),
              msg.amount().amount());
}

absl::Status Keeper::CheckSupplyInvariant() const {
  std::map<std::string, uint64_t> sums;
  absl::Status err;
  absl::Status s =
      store_.Scan("bal/", [&](std::string_view k, std::string_view v) {
        const std::string_view rest = k.substr(4);
        const size_t slash = rest.find('/');
        if (slash == std::string_view::npos || v.size() != 8) {
          err = absl::DataLossError(absl::StrCat("bank: corrupt key ", S(k)));
          return false;
        }
        uint64_t amount = 0;
        for (char c : v) amount = (amount << 8) | static_cast<uint8_t>(c);
        uint64_t& sum = sums[std::string(rest.substr(slash + 1))];
        if (sum + amount < sum) {
          err = absl::InternalError("bank: balances overflow 2^64");
          return false;
        }
        sum += amount;
        return true;
      });
  if (!s.ok()) return s;
  if (!err.ok()) return err;
  std::map<std::string, uint64_t> supply;
  s = store_.Scan("supply/", [&](std::string_view k, std::string_view v) {
    uint64_t amount = 0;
    for (char c : v) amount = (amount << 8) | static_cast<uint8_t>(c);
    supply[std::string(k.substr(7))] = amount;
    return true;
  });
  if (!s.ok()) return s;
  if (sums != supply) {
    for (const auto& [denom, total] : supply) {
      if (sums[denom] != total) {
        return absl::InternalError(absl::StrCat(
            "bank: supply invariant broken for ", denom, ": balances sum to ",
            sums[denom], ", supply is ", total));
      }
    }
    return absl::InternalError(
        "bank: supply invariant broken: balances in a denomination without "
        "supply");
  }
  return absl::OkStatus();
}

}  // namespace virtengine::bank
