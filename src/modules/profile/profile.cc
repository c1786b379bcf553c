#include "src/modules/profile/profile.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "security/validate/validate.h"

namespace virtengine::profile {
namespace {

constexpr validate::IdentifierPattern kKeyPattern = {
    1,
    kMaxKeyBytes,
    validate::kLower | validate::kDigit,
    "_.-",
    validate::kLower | validate::kDigit,
    "_.-"};

std::string S(std::string_view v) { return std::string(v); }

std::string ValueKey(std::string_view address, std::string_view key) {
  return absl::StrCat("v/", S(address), "/", S(key));
}

// Number of keys `address` holds (stops counting past the limit).
absl::StatusOr<size_t> CountKeys(const ledger::PrefixView& store,
                                 std::string_view address) {
  size_t n = 0;
  absl::Status s = store.Scan(absl::StrCat("v/", S(address), "/"),
                              [&n](std::string_view, std::string_view) {
                                ++n;
                                return n <= kMaxKeysPerAccount;
                              });
  if (!s.ok()) return s;
  return n;
}

absl::Status ValidateEntry(std::string_view what, std::string_view address,
                           std::string_view key, std::string_view value) {
  if (absl::Status s =
          validate::ValidateAddress(absl::StrCat(S(what), ": address"), address)
              .status();
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateKey(absl::StrCat(S(what), ": key"), key);
      !s.ok()) {
    return s;
  }
  return ValidateValue(absl::StrCat(S(what), ": value"), value);
}

}  // namespace

absl::Status ValidateKey(std::string_view field, std::string_view key) {
  return validate::ValidateIdentifier(field, key, kKeyPattern);
}

absl::Status ValidateValue(std::string_view field, std::string_view value) {
  return validate::ValidateText(field, value, kMaxValueBytes,
                                validate::ControlChars::kReject);
}

std::vector<ledger::MessageSpec> ProfileModule::messages() const {
  return {ledger::MessageSpec{std::string(kMsgSetProfileType), {}}};
}

absl::Status ProfileModule::Handle(ledger::Context& ctx,
                                   const google::protobuf::Any& msg) const {
  v1::MsgSetProfile set;
  if (absl::Status s =
          ledger::ParseStrict("profile: MsgSetProfile", msg.value(), &set);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateEntry("profile: MsgSetProfile", set.address(),
                                     set.key(), set.value());
      !s.ok()) {
    return s;
  }
  if (set.address() != ctx.signer()) {
    return absl::PermissionDeniedError(
        "profile: MsgSetProfile address is not the signer");
  }
  const std::string k = ValueKey(set.address(), set.key());
  absl::StatusOr<std::optional<std::string>> old = ctx.store().Get(k);
  if (!old.ok()) return old.status();
  if (!old->has_value()) {
    absl::StatusOr<size_t> n = CountKeys(ctx.store(), set.address());
    if (!n.ok()) return n.status();
    if (*n >= kMaxKeysPerAccount) {
      return absl::FailedPreconditionError(
          absl::StrCat("profile: ", set.address(), " already has ",
                       kMaxKeysPerAccount, " keys (the maximum)"));
    }
  }
  ctx.store().Put(k, set.value());
  v1::EventProfileSet ev;
  ev.set_address(set.address());
  ev.set_key(set.key());
  ev.set_value(set.value());
  ctx.events().Emit(ev);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ProfileModule::Query(
    const ledger::QueryContext& ctx, std::string_view path,
    std::string_view request) const {
  if (path != "get") {
    return absl::NotFoundError(
        absl::StrCat("profile: unknown query path \"", S(path), "\""));
  }
  v1::QueryGetRequest req;
  if (absl::Status s =
          ledger::ParseStrict("profile: QueryGetRequest", request, &req);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          validate::ValidateAddress("profile: get: address", req.address())
              .status();
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateKey("profile: get: key", req.key()); !s.ok()) {
    return s;
  }
  absl::StatusOr<std::optional<std::string>> v =
      ctx.store().Get(ValueKey(req.address(), req.key()));
  if (!v.ok()) return v.status();
  v1::QueryGetResponse r;
  r.set_found(v->has_value());
  if (v->has_value()) r.set_value(**v);
  r.set_height(ctx.height());
  return r.SerializeAsString();
}

absl::Status ProfileModule::InitGenesis(ledger::Context& ctx,
                                        std::string_view genesis) const {
  v1::GenesisState g;
  if (absl::Status s = ledger::ParseStrict("profile genesis", genesis, &g);
      !s.ok()) {
    return s;
  }
  std::map<std::string, size_t> per_account;
  for (int i = 0; i < g.entries_size(); ++i) {
    const v1::ProfileEntry& e = g.entries(i);
    const std::string what = absl::StrCat("profile genesis: entry ", i);
    if (absl::Status s = ValidateEntry(what, e.address(), e.key(), e.value());
        !s.ok()) {
      return s;
    }
    const std::string k = ValueKey(e.address(), e.key());
    absl::StatusOr<std::optional<std::string>> old = ctx.store().Get(k);
    if (!old.ok()) return old.status();
    if (old->has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": duplicate key \"", e.key(), "\" for ", e.address()));
    }
    if (++per_account[e.address()] > kMaxKeysPerAccount) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": ", e.address(), " has more than ",
                       kMaxKeysPerAccount, " keys"));
    }
    ctx.store().Put(k, e.value());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ProfileModule::ExportGenesis(
    const ledger::QueryContext& ctx) const {
  v1::GenesisState g;
  absl::Status bad = absl::OkStatus();
  absl::Status s =
      ctx.store().Scan("v/", [&](std::string_view key, std::string_view value) {
        // key: "v/<address>/<key>"
        const std::string_view rest = key.substr(2);
        const size_t slash = rest.find('/');
        if (slash == std::string_view::npos) {
          bad = absl::DataLossError(
              absl::StrCat("profile: malformed state key \"", S(key), "\""));
          return false;
        }
        v1::ProfileEntry* e = g.add_entries();
        e->set_address(S(rest.substr(0, slash)));
        e->set_key(S(rest.substr(slash + 1)));
        e->set_value(S(value));
        return true;
      });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  return g.SerializeAsString();
}

absl::Status ProfileModule::CheckInvariants(
    const ledger::QueryContext& ctx) const {
  absl::StatusOr<std::string> exported = ExportGenesis(ctx);
  if (!exported.ok()) return exported.status();
  v1::GenesisState g;
  if (!g.ParseFromString(*exported)) {
    return absl::InternalError("profile: exported state does not parse");
  }
  std::map<std::string, size_t> per_account;
  for (const v1::ProfileEntry& e : g.entries()) {
    if (absl::Status s =
            ValidateEntry("profile invariant", e.address(), e.key(), e.value());
        !s.ok()) {
      return absl::InternalError(std::string(s.message()));
    }
    if (++per_account[e.address()] > kMaxKeysPerAccount) {
      return absl::InternalError(
          absl::StrCat("profile invariant: ", e.address(), " holds more than ",
                       kMaxKeysPerAccount, " keys"));
    }
  }
  return absl::OkStatus();
}

}  // namespace virtengine::profile
