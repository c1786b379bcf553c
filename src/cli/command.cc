#include "src/cli/command.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "security/keys/kek.h"
#include "src/cli/files.h"
#include "src/cli/inputs.h"

namespace virtengine::cli {

namespace {

constexpr char kUsagePayload[] = "type.virtengine.dev/vectl.usage";

// Reads a passphrase from the flag's file, the variable's file, or the
// terminal (twice when `confirm`).
absl::StatusOr<crypto::SecretBytes> Passphrase(const Context& ctx,
                                               const std::string& flag,
                                               const std::string& var,
                                               const std::string& what,
                                               bool confirm) {
  std::optional<std::string> path = ctx.Flag(flag);
  std::string field = absl::StrCat("--", flag);
  if (!path.has_value()) {
    path = ctx.env.vars.count(var) != 0
               ? std::optional<std::string>(ctx.env.vars.at(var))
               : std::nullopt;
    field = var;
  }
  if (path.has_value()) {
    absl::StatusOr<crypto::SecretBytes> p =
        ReadPassphraseFile(field, ctx.env.cwd, *path);
    if (!p.ok()) return UsageError(p.status());
    return p;
  }
  if (!ctx.env.read_secret) {
    return UsageError(absl::StrCat("no ", what, ": pass --", flag,
                                   " PATH or set ", var,
                                   " (there is no terminal to ask on)"));
  }
  absl::StatusOr<crypto::SecretBytes> p =
      ctx.env.read_secret(absl::StrCat("Enter ", what, ": "));
  if (!p.ok()) return p.status();
  if (p->empty()) return UsageError(absl::StrCat("empty ", what));
  if (confirm) {
    absl::StatusOr<crypto::SecretBytes> again =
        ctx.env.read_secret(absl::StrCat("Repeat ", what, ": "));
    if (!again.ok()) return again.status();
    if (!p->Equals(*again)) {
      return UsageError(absl::StrCat("the two ", what, "s differ"));
    }
  }
  return p;
}

}  // namespace

absl::Status UsageError(absl::Status s) {
  if (s.ok()) s = absl::InvalidArgumentError("usage error");
  s.SetPayload(kUsagePayload, absl::Cord("1"));
  return s;
}

absl::Status UsageError(std::string_view message) {
  return UsageError(absl::InvalidArgumentError(std::string(message)));
}

bool IsUsageError(const absl::Status& s) {
  return s.GetPayload(kUsagePayload).has_value();
}

absl::Status Prefixed(std::string_view what, const absl::Status& s) {
  absl::Status out(s.code(),
                   absl::StrCat(std::string(what), ": ", s.message()));
  s.ForEachPayload([&out](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

std::string TextTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows) {
    width.resize(std::max(width.size(), r.size()), 0);
    for (size_t i = 0; i < r.size(); ++i) {
      width[i] = std::max(width[i], r[i].size());
    }
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line = " ";
    for (size_t i = 0; i < r.size(); ++i) {
      absl::StrAppend(&line, " ", r[i]);
      if (i + 1 < r.size()) line.append(width[i] - r[i].size() + 1, ' ');
    }
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

std::optional<std::string> Context::Flag(const std::string& flag) const {
  auto it = flags.find(flag);
  if (it == flags.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Context::FlagValues(const std::string& flag) const {
  if (auto it = repeated.find(flag); it != repeated.end()) return it->second;
  if (auto it = flags.find(flag); it != flags.end()) return {it->second};
  return {};
}

std::optional<std::string> Context::FlagOrEnv(const std::string& flag,
                                              const std::string& var) const {
  if (std::optional<std::string> v = Flag(flag); v.has_value()) return v;
  auto it = env.vars.find(var);
  if (it != env.vars.end()) return it->second;
  return std::nullopt;
}

absl::StatusOr<std::string> HomeDir(const Context& ctx) {
  if (std::optional<std::string> h = ctx.Flag("home"); h.has_value()) {
    absl::StatusOr<std::string> p = AbsolutePath("--home", ctx.env.cwd, *h);
    if (!p.ok()) return UsageError(p.status());
    return p;
  }
  if (auto it = ctx.env.vars.find("VECTL_HOME"); it != ctx.env.vars.end()) {
    absl::StatusOr<std::string> p =
        AbsolutePath("VECTL_HOME", ctx.env.cwd, it->second);
    if (!p.ok()) return UsageError(p.status());
    return p;
  }
  auto it = ctx.env.vars.find("HOME");
  if (it == ctx.env.vars.end() || it->second.empty()) {
    return UsageError(
        "no home: pass --home DIR or set VECTL_HOME (HOME is "
        "not set)");
  }
  absl::StatusOr<std::string> p =
      AbsolutePath("HOME", ctx.env.cwd, it->second + "/.vectl");
  if (!p.ok()) return UsageError(p.status());
  return p;
}

absl::StatusOr<std::string> ResolveAdminSocket(const Context& ctx) {
  std::string field = "--admin-socket";
  std::optional<std::string> path = ctx.Flag("admin-socket");
  if (!path.has_value()) {
    auto it = ctx.env.vars.find("VECTL_ADMIN_SOCKET");
    if (it != ctx.env.vars.end()) {
      field = "VECTL_ADMIN_SOCKET";
      path = it->second;
    }
  }
  if (!path.has_value()) {
    auto it = ctx.env.vars.find("HOME");
    if (it == ctx.env.vars.end() || it->second.empty()) {
      return UsageError(
          "no admin socket: pass --admin-socket PATH or set "
          "VECTL_ADMIN_SOCKET (HOME is not set)");
    }
    field = "HOME";
    path = it->second + "/.virtengine/admin.sock";
  }
  if (absl::Status s = ValidateAdminSocketPath(field, *path); !s.ok()) {
    return UsageError(s);
  }
  return *path;
}

absl::StatusOr<OpenedStore> OpenStore(const Context& ctx,
                                      bool create_if_missing) {
  absl::StatusOr<std::string> home_dir = HomeDir(ctx);
  if (!home_dir.ok()) return home_dir.status();
  absl::StatusOr<security::path::PathRoot> home =
      OpenHome(*home_dir, create_if_missing);
  if (!home.ok()) {
    if (home.status().code() == absl::StatusCode::kNotFound &&
        create_if_missing) {
      return UsageError(home.status());  // "parent of home ...: ..."
    }
    if (home.status().code() == absl::StatusCode::kNotFound) {
      return UsageError(absl::StrCat(
          "no vectl home at ", *home_dir,
          " (create a key with 'vectl keys add NAME', or pass --home)"));
    }
    return home.status();
  }
  const bool exists = home->OpenRead("keys/keystore.meta").ok();
  if (!exists && !create_if_missing) {
    return UsageError(absl::StrCat(
        "no key store in ", *home_dir,
        "/keys (create a key with 'vectl keys add NAME', or pass --home)"));
  }
  absl::StatusOr<crypto::SecretBytes> pass = Passphrase(
      ctx, "passphrase-file", "VECTL_PASSPHRASE_FILE",
      exists ? "key store passphrase" : "new key store passphrase", !exists);
  if (!pass.ok()) return pass.status();
  keys::PassphraseKekProvider kek(*std::move(pass));
  OpenedStore out{*std::move(home), nullptr, !exists};
  absl::StatusOr<std::unique_ptr<keys::KeyStore>> store =
      exists
          ? keys::KeyStore::Open(out.home, kek, keys::SystemWallClock::Get())
          : keys::KeyStore::Create(out.home, kek, keys::SystemWallClock::Get());
  if (!store.ok()) {
    absl::Status s = Prefixed(absl::StrCat("key store ", *home_dir, "/keys"),
                              store.status());
    // A passphrase too short for a new store is the caller's to fix.
    if (!exists && s.code() == absl::StatusCode::kInvalidArgument) {
      return UsageError(s);
    }
    return s;
  }
  out.store = *std::move(store);
  return out;
}

absl::StatusOr<crypto::SecretBytes> ExportPassphrase(const Context& ctx,
                                                     bool confirm) {
  return Passphrase(ctx, "export-passphrase-file",
                    "VECTL_EXPORT_PASSPHRASE_FILE", "export passphrase",
                    confirm);
}

}  // namespace virtengine::cli
