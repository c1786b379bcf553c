#include "src/cli/key_export.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "security/crypto/aead.h"
#include "security/crypto/ed25519.h"
#include "security/crypto/hash.h"
#include "security/crypto/random.h"
#include "security/keys/key_record.h"
#include "src/common/encoding/base64.h"
#include "src/ledger/tx/tx.h"

namespace virtengine::cli {

namespace cv1 = ::virtengine::security::crypto::v1;

namespace {

constexpr std::string_view kBegin = "-----BEGIN VIRTENGINE ED25519 KEY-----";
constexpr std::string_view kEnd = "-----END VIRTENGINE ED25519 KEY-----";
constexpr std::string_view kAddressHeader = "Address: ";
constexpr size_t kLineChars = 64;
constexpr uint8_t kAlgEd25519 = 1;
constexpr uint8_t kPurposeTx = 1;
constexpr uint8_t kKdfArgon2id = 1;
constexpr size_t kSaltBytes = 16;
constexpr size_t kSeedBytes = 32;
constexpr size_t kPrefixBytes = 72;  // everything before `sealed`
constexpr size_t kOpsAt = 8;
constexpr size_t kMemAt = 16;
constexpr size_t kSaltAt = 24;
constexpr size_t kPublicAt = 40;

void PutU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(
        static_cast<char>((v >> static_cast<unsigned>(shift)) & 0xFFU));
  }
}

uint64_t GetU64(std::string_view b, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i)
    v = (v << 8U) | static_cast<uint8_t>(b[at + i]);
  return v;
}

absl::Status Malformed(std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("key export: ", std::string(what)));
}

}  // namespace

absl::StatusOr<std::string> ExportKey(const crypto::SecretBytes& seed,
                                      const crypto::SecretBytes& passphrase,
                                      crypto::Argon2Cost cost) {
  if (passphrase.size() < kMinExportPassphraseBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "export passphrase: ", passphrase.size(),
        " bytes is shorter than the minimum of ", kMinExportPassphraseBytes));
  }
  if (cost.ops_limit > kMaxExportOps ||
      cost.mem_limit_bytes > kMaxExportMemBytes) {
    return absl::InvalidArgumentError(
        "key export: Argon2id cost above the import limits");
  }
  absl::StatusOr<crypto::Ed25519PrivateKey> key =
      crypto::Ed25519PrivateKey::FromSeed(cv1::TX_SIGNATURE, seed);
  if (!key.ok()) return key.status();
  std::string bin(kExportMagic);
  bin.push_back(static_cast<char>(kExportVersion));
  bin.push_back(static_cast<char>(kAlgEd25519));
  bin.push_back(static_cast<char>(kPurposeTx));
  bin.push_back(static_cast<char>(kKdfArgon2id));
  PutU64(&bin, cost.ops_limit);
  PutU64(&bin, cost.mem_limit_bytes);
  const crypto::Bytes salt = crypto::RandomBytes(kSaltBytes);
  bin.append(crypto::AsChars(salt));
  bin.append(crypto::AsChars(key->public_key().view()));
  absl::StatusOr<crypto::SecretBytes> wrap_key = crypto::DeriveKeyFromPassword(
      passphrase, salt, crypto::Aead::kKeySize, cost);
  if (!wrap_key.ok()) return wrap_key.status();
  absl::StatusOr<crypto::Aead> aead =
      crypto::Aead::Create(cv1::KEY_WRAP, *std::move(wrap_key));
  if (!aead.ok()) return aead.status();
  absl::StatusOr<crypto::Bytes> sealed =
      aead->Seal(seed.view(), crypto::AsBytes(bin));
  if (!sealed.ok()) return sealed.status();
  bin.append(crypto::AsChars(*sealed));
  if (bin.size() != kExportBinaryBytes) {
    return absl::InternalError("key export: unexpected binary size");
  }
  const std::string b64 = encoding::Base64Encode(std::string_view(bin));
  std::string out =
      absl::StrCat(std::string(kBegin), "\n", std::string(kAddressHeader),
                   ledger::AddressFromPublicKey(key->public_key()), "\n\n");
  for (size_t i = 0; i < b64.size(); i += kLineChars) {
    absl::StrAppend(&out, b64.substr(i, kLineChars), "\n");
  }
  absl::StrAppend(&out, std::string(kEnd), "\n");
  return out;
}

absl::StatusOr<std::string> Dearmor(std::string_view armored) {
  if (armored.size() > kMaxExportFileBytes) {
    return Malformed(absl::StrCat("file of ", armored.size(),
                                  " bytes exceeds the limit of ",
                                  kMaxExportFileBytes));
  }
  std::vector<std::string_view> lines;
  for (absl::string_view l : absl::StrSplit(
           absl::string_view(armored.data(), armored.size()), '\n')) {
    lines.emplace_back(l.data(), l.size());
  }
  // One final newline leaves an empty last piece.
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (lines.size() < 5) return Malformed("too few lines");
  if (lines[0] != kBegin) {
    return Malformed(
        absl::StrCat("line 1 is not \"", std::string(kBegin), "\""));
  }
  if (lines[1].substr(0, kAddressHeader.size()) != kAddressHeader) {
    return Malformed("line 2 is not \"Address: ve1...\"");
  }
  const std::string_view address = lines[1].substr(kAddressHeader.size());
  if (!lines[2].empty()) return Malformed("line 3 is not empty");
  if (lines.back() != kEnd) {
    return Malformed(
        absl::StrCat("the last line is not \"", std::string(kEnd), "\""));
  }
  std::string b64;
  for (size_t i = 3; i + 1 < lines.size(); ++i) {
    const bool last = i + 2 == lines.size();
    if (lines[i].empty() || lines[i].size() > kLineChars ||
        (!last && lines[i].size() != kLineChars)) {
      return Malformed(absl::StrCat("line ", i + 1, " is not a ", kLineChars,
                                    "-character base64 line"));
    }
    b64.append(lines[i]);
  }
  absl::StatusOr<std::vector<uint8_t>> bin =
      encoding::Base64Decode(b64, kExportBinaryBytes);
  if (!bin.ok()) return Malformed(std::string(bin.status().message()));
  std::string b(bin->begin(), bin->end());
  if (b.size() != kExportBinaryBytes) {
    return Malformed(absl::StrCat("payload is ", b.size(), " bytes, want ",
                                  kExportBinaryBytes));
  }
  if (b.substr(0, 4) != kExportMagic) return Malformed("bad magic (not VEKX)");
  if (static_cast<uint8_t>(b[4]) != kExportVersion) {
    return Malformed(absl::StrCat(
        "unsupported version ", static_cast<int>(static_cast<uint8_t>(b[4]))));
  }
  if (static_cast<uint8_t>(b[5]) != kAlgEd25519) {
    return Malformed("algorithm is not ed25519 (01)");
  }
  if (static_cast<uint8_t>(b[6]) != kPurposeTx) {
    return Malformed("purpose is not TX_SIGNATURE (01)");
  }
  if (static_cast<uint8_t>(b[7]) != kKdfArgon2id) {
    return Malformed("key derivation is not argon2id (01)");
  }
  const uint64_t ops = GetU64(b, kOpsAt);
  const uint64_t mem = GetU64(b, kMemAt);
  if (ops == 0 || ops > kMaxExportOps || mem == 0 || mem > kMaxExportMemBytes) {
    return Malformed(absl::StrCat("Argon2id cost (ops ", ops, ", mem ", mem,
                                  ") outside the accepted range (ops 1..",
                                  kMaxExportOps, ", mem up to ",
                                  kMaxExportMemBytes, ")"));
  }
  absl::StatusOr<crypto::Ed25519PublicKey> pub =
      crypto::Ed25519PublicKey::FromBytes(
          crypto::AsBytes(std::string_view(b).substr(kPublicAt, 32)));
  if (!pub.ok()) return Malformed("invalid public key");
  const std::string want = ledger::AddressFromPublicKey(*pub);
  if (address != want) {
    return Malformed(absl::StrCat("the Address line says ",
                                  std::string(address.substr(0, 90)),
                                  " but the key inside is ", want));
  }
  return b;
}

absl::StatusOr<ImportedKey> ImportKey(std::string_view armored,
                                      const crypto::SecretBytes& passphrase) {
  absl::StatusOr<std::string> bin = Dearmor(armored);
  if (!bin.ok()) return bin.status();
  const std::string_view b = *bin;
  crypto::Argon2Cost cost;
  cost.ops_limit = GetU64(b, kOpsAt);
  cost.mem_limit_bytes = GetU64(b, kMemAt);
  absl::StatusOr<crypto::SecretBytes> wrap_key = crypto::DeriveKeyFromPassword(
      passphrase, crypto::AsBytes(b.substr(kSaltAt, kSaltBytes)),
      crypto::Aead::kKeySize, cost);
  if (!wrap_key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("key export: ", wrap_key.status().message()));
  }
  absl::StatusOr<crypto::Aead> aead =
      crypto::Aead::Create(cv1::KEY_WRAP, *std::move(wrap_key));
  if (!aead.ok()) return aead.status();
  absl::StatusOr<crypto::SecretBytes> seed =
      aead->Open(crypto::AsBytes(b.substr(kPrefixBytes)),
                 crypto::AsBytes(b.substr(0, kPrefixBytes)));
  if (!seed.ok()) {
    return absl::UnauthenticatedError(
        "key export: does not open: wrong passphrase or the file was altered");
  }
  if (seed->size() != kSeedBytes) {
    return absl::DataLossError("key export: secret is not 32 bytes");
  }
  absl::StatusOr<crypto::Ed25519PrivateKey> key =
      crypto::Ed25519PrivateKey::FromSeed(cv1::TX_SIGNATURE, *seed);
  if (!key.ok()) return key.status();
  if (crypto::AsChars(key->public_key().view()) != b.substr(kPublicAt, 32)) {
    return absl::DataLossError(
        "key export: the secret does not match the public key");
  }
  ImportedKey out;
  out.seed = *std::move(seed);
  out.address = ledger::AddressFromPublicKey(key->public_key());
  return out;
}

absl::StatusOr<crypto::SecretBytes> ActiveSeed(const keys::KeyStore& store,
                                               std::string_view name) {
  absl::StatusOr<keys::KeyInfo> active = store.ActiveKey(name);
  if (!active.ok()) return active.status();
  if (active->algorithm != keys::KeyAlgorithm::kEd25519) {
    return absl::FailedPreconditionError(
        absl::StrCat("key ", std::string(name), " is not an Ed25519 key"));
  }
  return store.ExportEd25519Seed(active->key_id);
}

}  // namespace virtengine::cli
