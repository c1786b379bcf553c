// vectl keys add | list | show | export | import.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "security/crypto/ed25519.h"
#include "security/keys/key_record.h"
#include "src/cli/command.h"
#include "src/cli/files.h"
#include "src/cli/json.h"
#include "src/cli/key_export.h"
#include "src/common/encoding/hex.h"
#include "src/ledger/tx/tx.h"

namespace virtengine::cli {

namespace cv1 = ::virtengine::security::crypto::v1;

namespace {

// The account address of an Ed25519 key; empty for other keys.
std::string AddressOf(const keys::KeyInfo& k) {
  if (k.algorithm != keys::KeyAlgorithm::kEd25519) return "";
  absl::StatusOr<crypto::Ed25519PublicKey> pub =
      crypto::Ed25519PublicKey::FromBytes(
          crypto::ByteView(k.public_key.data(), k.public_key.size()));
  if (!pub.ok()) return "";
  return ledger::AddressFromPublicKey(*pub);
}

std::string Time(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

absl::Status CheckName(std::string_view name) {
  if (absl::Status s = keys::ValidateKeyName(name); !s.ok()) {
    return UsageError(Prefixed("NAME", s));
  }
  return absl::OkStatus();
}

void WriteKeyJson(JsonWriter& w, const keys::KeyInfo& k) {
  w.BeginObject();
  w.Key("name").String(k.name);
  w.Key("address").String(AddressOf(k));
  w.Key("public_key")
      .String(encoding::HexEncode(
          absl::Span<const uint8_t>(k.public_key.data(), k.public_key.size())));
  w.Key("fingerprint").String(k.fingerprint);
  w.Key("key_id").String(k.key_id);
  w.Key("algorithm").String(keys::KeyAlgorithmName(k.algorithm));
  w.Key("purpose").String(crypto::PurposeName(k.purpose));
  w.Key("state").String(keys::KeyStateName(k.state));
  w.Key("generation").Uint(k.generation);
  w.Key("created_at").String(Time(k.created_at));
  w.EndObject();
}

void PrintKeyText(std::ostream& out, const keys::KeyInfo& k) {
  out << "name: " << k.name << "\n"
      << "address: " << AddressOf(k) << "\n"
      << "public_key: "
      << encoding::HexEncode(absl::Span<const uint8_t>(k.public_key.data(),
                                                       k.public_key.size()))
      << "\n"
      << "fingerprint: " << k.fingerprint << "\n"
      << "key_id: " << k.key_id << "\n"
      << "algorithm: " << keys::KeyAlgorithmName(k.algorithm) << "\n"
      << "purpose: " << crypto::PurposeName(k.purpose) << "\n"
      << "state: " << keys::KeyStateName(k.state) << "\n"
      << "generation: " << k.generation << "\n"
      << "created_at: " << Time(k.created_at) << "\n";
}

void PrintKey(Context& ctx, const keys::KeyInfo& k) {
  if (ctx.json) {
    JsonWriter w;
    WriteKeyJson(w, k);
    ctx.out << w.str() << "\n";
  } else {
    PrintKeyText(ctx.out, k);
  }
}

}  // namespace

absl::Status RunKeysAdd(Context& ctx) {
  const std::string& name = ctx.args[0];
  if (absl::Status s = CheckName(name); !s.ok()) return s;
  absl::StatusOr<OpenedStore> st = OpenStore(ctx, /*create_if_missing=*/true);
  if (!st.ok()) return st.status();
  absl::StatusOr<keys::KeyInfo> k = st->store->Generate(
      name, keys::KeyAlgorithm::kEd25519, cv1::TX_SIGNATURE);
  if (!k.ok()) return Prefixed(absl::StrCat("keys add ", name), k.status());
  PrintKey(ctx, *k);
  return absl::OkStatus();
}

absl::Status RunKeysList(Context& ctx) {
  absl::StatusOr<OpenedStore> st = OpenStore(ctx, false);
  if (!st.ok()) return st.status();
  const std::vector<keys::KeyInfo> all = st->store->List();
  if (ctx.json) {
    JsonWriter w;
    w.BeginObject().Key("keys").BeginArray();
    for (const keys::KeyInfo& k : all) WriteKeyJson(w, k);
    w.EndArray().EndObject();
    ctx.out << w.str() << "\n";
    return absl::OkStatus();
  }
  if (all.empty()) {
    ctx.out << "no keys\n";
    return absl::OkStatus();
  }
  ctx.out << "NAME\tGEN\tSTATE\tPURPOSE\tADDRESS\n";
  for (const keys::KeyInfo& k : all) {
    const std::string addr = AddressOf(k);
    ctx.out << k.name << "\t" << k.generation << "\t"
            << keys::KeyStateName(k.state) << "\t"
            << crypto::PurposeName(k.purpose) << "\t"
            << (addr.empty() ? "-" : addr) << "\n";
  }
  return absl::OkStatus();
}

absl::Status RunKeysShow(Context& ctx) {
  const std::string& name = ctx.args[0];
  if (absl::Status s = CheckName(name); !s.ok()) return s;
  absl::StatusOr<OpenedStore> st = OpenStore(ctx, false);
  if (!st.ok()) return st.status();
  absl::StatusOr<keys::KeyInfo> k = st->store->ActiveKey(name);
  if (!k.ok()) return Prefixed(absl::StrCat("keys show ", name), k.status());
  if (ctx.Has("address")) {
    const std::string addr = AddressOf(*k);
    if (addr.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("key ", name, " is not an Ed25519 key: no address"));
    }
    if (ctx.json) {
      JsonWriter w;
      w.BeginObject().Key("address").String(addr).EndObject();
      ctx.out << w.str() << "\n";
    } else {
      ctx.out << addr << "\n";
    }
    return absl::OkStatus();
  }
  PrintKey(ctx, *k);
  return absl::OkStatus();
}

absl::Status RunKeysExport(Context& ctx) {
  const std::string& name = ctx.args[0];
  if (absl::Status s = CheckName(name); !s.ok()) return s;
  absl::StatusOr<OpenedStore> st = OpenStore(ctx, false);
  if (!st.ok()) return st.status();
  absl::StatusOr<keys::KeyInfo> k = st->store->ActiveKey(name);
  if (!k.ok()) return Prefixed(absl::StrCat("keys export ", name), k.status());
  if (k->algorithm != keys::KeyAlgorithm::kEd25519 ||
      k->purpose != cv1::TX_SIGNATURE) {
    return absl::FailedPreconditionError(
        absl::StrCat("keys export ", name,
                     ": only Ed25519 TX_SIGNATURE (account) keys are "
                     "exported; this key is ",
                     keys::KeyAlgorithmName(k->algorithm), " ",
                     crypto::PurposeName(k->purpose)));
  }
  absl::StatusOr<crypto::SecretBytes> pass = ExportPassphrase(ctx, true);
  if (!pass.ok()) return pass.status();
  if (pass->size() < kMinExportPassphraseBytes) {
    return UsageError(absl::StrCat("export passphrase: ", pass->size(),
                                   " bytes is shorter than the minimum of ",
                                   kMinExportPassphraseBytes));
  }
  absl::StatusOr<crypto::SecretBytes> seed = ActiveSeed(*st->store, name);
  if (!seed.ok())
    return Prefixed(absl::StrCat("keys export ", name), seed.status());
  absl::StatusOr<std::string> armored = ExportKey(*seed, *pass);
  if (!armored.ok()) return armored.status();
  if (ctx.json) {
    JsonWriter w;
    w.BeginObject()
        .Key("name")
        .String(name)
        .Key("address")
        .String(AddressOf(*k))
        .Key("armored")
        .String(*armored)
        .EndObject();
    ctx.out << w.str() << "\n";
  } else {
    ctx.out << *armored;
  }
  return absl::OkStatus();
}

absl::Status RunKeysImport(Context& ctx) {
  const std::string& name = ctx.args[0];
  if (absl::Status s = CheckName(name); !s.ok()) return s;
  absl::StatusOr<std::string> file =
      ReadUserFile("FILE", ctx.env.cwd, ctx.args[1], kMaxExportFileBytes);
  if (!file.ok()) return UsageError(file.status());
  // The armor and header are checked before any passphrase is asked for.
  if (absl::Status s = Dearmor(*file).status(); !s.ok()) {
    return Prefixed(absl::StrCat("FILE ", ctx.args[1]), s);
  }
  absl::StatusOr<OpenedStore> st = OpenStore(ctx, /*create_if_missing=*/true);
  if (!st.ok()) return st.status();
  absl::StatusOr<crypto::SecretBytes> pass = ExportPassphrase(ctx, false);
  if (!pass.ok()) return pass.status();
  absl::StatusOr<ImportedKey> imported = ImportKey(*file, *pass);
  if (!imported.ok()) {
    return Prefixed(absl::StrCat("FILE ", ctx.args[1]), imported.status());
  }
  absl::StatusOr<keys::KeyInfo> k = st->store->Import(
      name, keys::KeyAlgorithm::kEd25519, cv1::TX_SIGNATURE, imported->seed);
  if (!k.ok()) return Prefixed(absl::StrCat("keys import ", name), k.status());
  PrintKey(ctx, *k);
  return absl::OkStatus();
}

}  // namespace virtengine::cli
