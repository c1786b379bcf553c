#include "security/keys/key_store.h"

#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "security/crypto/hash.h"
#include "security/crypto/random.h"
#include "security/keys/internal_util.h"
#include "src/common/encoding/hex.h"

namespace virtengine::keys {

namespace v1 = ::virtengine::security::crypto::v1;

namespace {

constexpr std::string_view kKeysDir = "keys";
constexpr std::string_view kMetaFile = "keystore.meta";
constexpr std::string_view kRecordSuffix = ".key";
constexpr std::string_view kTempPrefix = ".ve-tmp-";
constexpr mode_t kFileMode = 0600;
constexpr mode_t kDirMode = 0700;

constexpr std::string_view kInfoRecord = "virtengine/keys/v1/record";
constexpr std::string_view kInfoCheck = "virtengine/keys/v1/kek-check";
constexpr std::string_view kInfoBackup = "virtengine/keys/v1/backup";

absl::Status Annotate(const absl::Status& s, std::string_view context) {
  return absl::Status(s.code(), internal::Cat(context, ": ", s.message()));
}

std::string Hex(crypto::ByteView b) { return encoding::HexEncode(b); }

absl::Status CheckKeyIdText(std::string_view id) {
  bool ok = id.size() == 2 * kKeyIdSize;
  for (char c : id)
    ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!ok) {
    return absl::InvalidArgumentError(
        "keys: a key id is 32 lowercase hex digits");
  }
  return absl::OkStatus();
}

bool IsRecordFileName(std::string_view name) {
  if (name.size() != 2 * kKeyIdSize + kRecordSuffix.size()) return false;
  if (name.substr(2 * kKeyIdSize) != kRecordSuffix) return false;
  return CheckKeyIdText(name.substr(0, 2 * kKeyIdSize)).ok();
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.substr(s.size() - suffix.size()) == suffix;
}

// strerror, thread-safely (GNU strerror_r returns the message pointer).
std::string ErrnoText(int err) {
  std::array<char, 128> buf{};
  return strerror_r(err, buf.data(), buf.size());
}

// Reads a whole private file: opened through the path validator, refused
// unless it is a regular file owned by this user with no group or other
// permission bits, and at most `max_bytes` long.
absl::StatusOr<std::string> ReadPrivateFile(const security::path::PathRoot& dir,
                                            std::string_view name,
                                            size_t max_bytes) {
  auto fd = dir.OpenRead(name);
  if (!fd.ok()) return Annotate(fd.status(), internal::Cat("keys/", name));
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) {
    return absl::InternalError(
        internal::Cat("keys/", name, ": fstat: ", ErrnoText(errno)));
  }
  if ((st.st_mode & 077U) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "keys/%s has mode %04o; key store files must be 0600 (no group or "
        "other access)",
        std::string(name), st.st_mode & 07777U));
  }
  if (st.st_uid != ::geteuid()) {
    return absl::FailedPreconditionError(
        internal::Cat("keys/", name, " is owned by uid ", st.st_uid,
                      ", not by this process's uid ", ::geteuid()));
  }
  std::string out;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(fd->get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(
          internal::Cat("keys/", name, ": read: ", ErrnoText(errno)));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) {
      return absl::InvalidArgumentError(internal::Cat(
          "keys/", name, " is longer than ", max_bytes, " bytes"));
    }
  }
  return out;
}

absl::StatusOr<crypto::SecretBytes> Derive(const crypto::SecretBytes& ikm,
                                           crypto::ByteView salt,
                                           std::string_view info) {
  return crypto::HkdfSha256(v1::KEY_DERIVATION, ikm, salt,
                            crypto::AsBytes(info), crypto::Aead::kKeySize);
}

absl::StatusOr<crypto::Aead> MakeAead(const crypto::SecretBytes& ikm,
                                      crypto::ByteView salt,
                                      std::string_view info) {
  auto key = Derive(ikm, salt, info);
  if (!key.ok()) return key.status();
  return crypto::Aead::Create(v1::KEY_WRAP, *std::move(key));
}

crypto::Algorithm CryptoAlgorithm(KeyAlgorithm a) {
  return a == KeyAlgorithm::kEd25519 ? v1::ED25519
                                     : v1::X25519_XSALSA20_POLY1305;
}

// The public key of a secret, by algorithm (and the policy check for it).
absl::StatusOr<crypto::Bytes> DerivePublic(KeyAlgorithm algorithm,
                                           crypto::Purpose purpose,
                                           const crypto::SecretBytes& secret) {
  if (secret.size() != SecretKeySize(algorithm)) {
    return absl::InvalidArgumentError(internal::Cat(
        "keys: ", KeyAlgorithmName(algorithm), " secret is ", secret.size(),
        " bytes, want ", SecretKeySize(algorithm)));
  }
  if (algorithm == KeyAlgorithm::kEd25519) {
    auto key = crypto::Ed25519PrivateKey::FromSeed(purpose, secret);
    if (!key.ok()) return key.status();
    const auto& pk = key->public_key().bytes();
    return crypto::Bytes(pk.begin(), pk.end());
  }
  KEYS_RETURN_IF_ERROR(
      crypto::CheckAllowed(purpose, CryptoAlgorithm(algorithm)));
  if (sodium_init() < 0) return absl::InternalError("keys: libsodium init");
  crypto::Bytes pk(crypto_scalarmult_curve25519_BYTES);
  if (crypto_scalarmult_curve25519_base(pk.data(), secret.data()) != 0) {
    return absl::InvalidArgumentError("keys: x25519 secret key is degenerate");
  }
  return pk;
}

std::optional<absl::Time> OptionalTime(int64_t unix_seconds) {
  if (unix_seconds == 0) return std::nullopt;
  return absl::FromUnixSeconds(unix_seconds);
}

std::string DescribeTime(int64_t unix_seconds) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                          absl::FromUnixSeconds(unix_seconds),
                          absl::UTCTimeZone());
}

}  // namespace

absl::Time SystemWallClock::Now() { return absl::Now(); }

SystemWallClock* SystemWallClock::Get() {
  static auto* clock = new SystemWallClock();
  return clock;
}

absl::StatusOr<std::string> Fingerprint(crypto::ByteView public_key) {
  auto digest = crypto::Sha256(v1::FINGERPRINT, public_key);
  if (!digest.ok()) return digest.status();
  return Hex(crypto::ByteView(digest->data(), digest->size()));
}

bool KeyInfo::operator==(const KeyInfo& o) const {
  return key_id == o.key_id && name == o.name && algorithm == o.algorithm &&
         purpose == o.purpose && state == o.state &&
         generation == o.generation && created_at == o.created_at &&
         rotated_at == o.rotated_at && retired_at == o.retired_at &&
         revoked_at == o.revoked_at && public_key == o.public_key &&
         fingerprint == o.fingerprint;
}

namespace {

KeyInfo ToInfo(const KeyRecordHeader& h) {
  KeyInfo info;
  info.key_id = Hex(crypto::ByteView(h.key_id.data(), h.key_id.size()));
  info.name = h.name;
  info.algorithm = h.algorithm;
  info.purpose = h.purpose;
  info.state = h.state;
  info.generation = h.generation;
  info.created_at = absl::FromUnixSeconds(h.created_at);
  info.rotated_at = OptionalTime(h.rotated_at);
  info.retired_at = OptionalTime(h.retired_at);
  info.revoked_at = OptionalTime(h.revoked_at);
  info.public_key = h.public_key;
  // SHA-256 for FINGERPRINT was checked when the key was loaded or made.
  auto fp = Fingerprint(crypto::ByteView(h.public_key));
  if (fp.ok()) info.fingerprint = *std::move(fp);
  return info;
}

std::string RecordFileName(const KeyRecordHeader& h) {
  return internal::Cat(Hex(crypto::ByteView(h.key_id.data(), h.key_id.size())),
                       kRecordSuffix);
}

}  // namespace

KeyStore::KeyStore(security::path::PathRoot dir, crypto::Aead wrap,
                   WallClock* clock)
    : dir_(std::move(dir)), wrap_(std::move(wrap)), clock_(clock) {}

KeyStore::~KeyStore() = default;

absl::StatusOr<std::unique_ptr<KeyStore>> KeyStore::Create(
    const security::path::PathRoot& home, KekProvider& kek, WallClock* clock) {
  if (clock == nullptr) return absl::InvalidArgumentError("keys: no clock");
  KEYS_RETURN_IF_ERROR(home.MakeDirs(kKeysDir, kDirMode));
  auto dir = home.Sub(kKeysDir);
  if (!dir.ok()) return dir.status();
  auto names = dir->List(".", kMaxKeysPerStore + 16);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    if (name == kMetaFile) {
      return absl::AlreadyExistsError(
          "keys: a key store already exists (keys/keystore.meta)");
    }
    if (EndsWith(name, kRecordSuffix)) {
      return absl::FailedPreconditionError(internal::Cat(
          "keys: keys/ holds key records (", name,
          ") but no keystore.meta; move them away before creating a store"));
    }
  }
  const std::string kind = kek.kind();
  auto made = kek.CreateKek();
  if (!made.ok()) return made.status();
  if (made->kek.size() != kKekSize) {
    return absl::InternalError(internal::Cat("keys: KEK provider ", kind,
                                             " returned a KEK of ",
                                             made->kek.size(), " bytes"));
  }
  StoreMeta meta;
  crypto::RandomFill(absl::MakeSpan(meta.store_id));
  meta.kek_kind = kind;
  meta.kek_params = made->params;
  auto check =
      MakeAead(made->kek, crypto::ByteView(meta.store_id.data(), kStoreIdSize),
               kInfoCheck);
  if (!check.ok()) return check.status();
  auto sealed = check->Seal({}, crypto::AsBytes(EncodeMetaPrefix(meta)));
  if (!sealed.ok()) return sealed.status();
  meta.kek_check = *std::move(sealed);
  const std::string bytes = EncodeStoreMeta(meta);
  // Round-trip through the decoder: a provider kind or parameters that the
  // format cannot hold are refused before anything is written.
  if (auto back = DecodeStoreMeta(bytes); !back.ok()) return back.status();
  KEYS_RETURN_IF_ERROR(dir->WriteFileAtomic(kMetaFile, bytes, kFileMode));
  auto wrap =
      MakeAead(made->kek, crypto::ByteView(meta.store_id.data(), kStoreIdSize),
               kInfoRecord);
  if (!wrap.ok()) return wrap.status();
  return std::unique_ptr<KeyStore>(
      new KeyStore(*std::move(dir), *std::move(wrap), clock));
}

absl::StatusOr<std::unique_ptr<KeyStore>> KeyStore::Open(
    const security::path::PathRoot& home, KekProvider& kek, WallClock* clock) {
  if (clock == nullptr) return absl::InvalidArgumentError("keys: no clock");
  auto dir = home.Sub(kKeysDir);
  if (!dir.ok()) {
    if (absl::IsNotFound(dir.status())) {
      return absl::NotFoundError("keys: no key store (keys/ does not exist)");
    }
    return dir.status();
  }
  auto meta_bytes = ReadPrivateFile(*dir, kMetaFile, kMaxMetaBytes);
  if (!meta_bytes.ok()) {
    if (absl::IsNotFound(meta_bytes.status())) {
      return absl::NotFoundError(
          "keys: no key store (keys/keystore.meta does not exist)");
    }
    return meta_bytes.status();
  }
  auto meta = DecodeStoreMeta(*meta_bytes);
  if (!meta.ok()) return Annotate(meta.status(), "keys/keystore.meta");
  if (meta->kek_kind != kek.kind()) {
    return absl::FailedPreconditionError(
        internal::Cat("keys: the store's KEK comes from provider \"",
                      meta->kek_kind, "\", not \"", kek.kind(), "\""));
  }
  auto key = kek.UnlockKek(meta->kek_params);
  if (!key.ok()) return key.status();
  if (key->size() != kKekSize) {
    return absl::InternalError("keys: KEK provider returned a wrong-size KEK");
  }
  const crypto::ByteView salt(meta->store_id.data(), kStoreIdSize);
  auto check = MakeAead(*key, salt, kInfoCheck);
  if (!check.ok()) return check.status();
  if (auto opened = check->Open(meta->kek_check,
                                crypto::AsBytes(EncodeMetaPrefix(*meta)));
      !opened.ok()) {
    if (absl::IsUnauthenticated(opened.status())) {
      return absl::UnauthenticatedError(
          "keys: KEK check failed: wrong passphrase (or key-encryption key), "
          "or keys/keystore.meta was altered");
    }
    return opened.status();
  }
  auto wrap = MakeAead(*key, salt, kInfoRecord);
  if (!wrap.ok()) return wrap.status();
  std::unique_ptr<KeyStore> store(
      new KeyStore(*std::move(dir), *std::move(wrap), clock));
  absl::MutexLock lock(&store->mu_);
  KEYS_RETURN_IF_ERROR(store->LoadAll());
  KEYS_RETURN_IF_ERROR(store->RepairActive());
  return store;
}

absl::Status KeyStore::LoadAll() {
  auto names = dir_.List(".", kMaxKeysPerStore + 16);
  if (!names.ok()) return Annotate(names.status(), "keys/");
  std::map<std::string, Entry> loaded;
  for (const std::string& name : *names) {
    if (name.rfind(kTempPrefix, 0) == 0) continue;  // interrupted write
    if (!EndsWith(name, kRecordSuffix)) continue;   // not ours
    if (!IsRecordFileName(name)) {
      return absl::FailedPreconditionError(internal::Cat(
          "keys/", name,
          ": unexpected record file name (want <32 lowercase hex>.key)"));
    }
    if (loaded.size() >= kMaxKeysPerStore) {
      return absl::ResourceExhaustedError(
          internal::Cat("keys: more than ", kMaxKeysPerStore, " key records"));
    }
    auto bytes = ReadPrivateFile(dir_, name, kMaxRecordBytes);
    if (!bytes.ok()) return bytes.status();
    auto rec = DecodeKeyRecord(*bytes);
    if (!rec.ok()) return Annotate(rec.status(), internal::Cat("keys/", name));
    Entry e{std::move(rec->header), std::move(rec->sealed)};
    if (RecordFileName(e.header) != name) {
      return absl::UnauthenticatedError(internal::Cat(
          "keys/", name, " holds the record of key ",
          Hex(crypto::ByteView(e.header.key_id.data(), kKeyIdSize)),
          " (record files were renamed or swapped)"));
    }
    auto secret = OpenSecret(e);
    if (!secret.ok())
      return Annotate(secret.status(), internal::Cat("keys/", name));
    if (StateHasSecret(e.header.state)) {
      auto pk = DerivePublic(e.header.algorithm, e.header.purpose, *secret);
      if (!pk.ok()) return Annotate(pk.status(), internal::Cat("keys/", name));
      if (*pk != e.header.public_key) {
        return absl::DataLossError(internal::Cat(
            "keys/", name, ": the secret does not match the public key"));
      }
    }
    if (auto fp = Fingerprint(crypto::ByteView(e.header.public_key));
        !fp.ok()) {
      return fp.status();
    }
    loaded.emplace(name.substr(0, 2 * kKeyIdSize), std::move(e));
  }
  // Records of one name agree on algorithm and purpose and have distinct
  // generations.
  std::map<std::string, std::vector<const Entry*>> by_name;
  for (const auto& [id, e] : loaded) by_name[e.header.name].push_back(&e);
  for (const auto& [name, list] : by_name) {
    std::set<uint32_t> generations;
    for (const Entry* e : list) {
      if (e->header.algorithm != list[0]->header.algorithm ||
          e->header.purpose != list[0]->header.purpose) {
        return absl::DataLossError(
            internal::Cat("keys: the records of name \"", name,
                          "\" disagree on algorithm or purpose"));
      }
      if (!generations.insert(e->header.generation).second) {
        return absl::DataLossError(internal::Cat("keys: two records of name \"",
                                                 name, "\" have generation ",
                                                 e->header.generation));
      }
    }
  }
  entries_ = std::move(loaded);
  return absl::OkStatus();
}

absl::Status KeyStore::RepairActive() {
  // An interrupted rotation leaves two active keys for a name: the newer
  // generation wins and the others become rotated, as of the time the
  // newest was made.
  // name -> (generation, id) of its active keys, in generation order.
  std::map<std::string, std::map<uint32_t, std::string>> active;
  for (const auto& [id, e] : entries_) {
    if (e.header.state == KeyState::kActive) {
      active[e.header.name][e.header.generation] = id;
    }
  }
  for (const auto& [name, by_generation] : active) {
    if (by_generation.size() < 2) continue;
    const int64_t when =
        entries_.at(by_generation.rbegin()->second).header.created_at;
    for (auto it = by_generation.begin(); std::next(it) != by_generation.end();
         ++it) {
      KEYS_RETURN_IF_ERROR(ChangeState(it->second, KeyState::kRotated, when));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> KeyStore::NowSeconds() const {
  const int64_t now = absl::ToUnixSeconds(clock_->Now());
  if (now <= 0) {
    return absl::FailedPreconditionError(
        "keys: the clock reads 1970 or earlier");
  }
  return now;
}

absl::StatusOr<crypto::SecretBytes> KeyStore::OpenSecret(const Entry& e) const {
  auto secret = wrap_.Open(e.sealed, crypto::AsBytes(EncodeHeader(e.header)));
  if (!secret.ok()) {
    if (absl::IsUnauthenticated(secret.status())) {
      return absl::UnauthenticatedError(
          "record failed authentication: it was altered, its sealed secret "
          "belongs to another record, or it comes from another store");
    }
    return secret.status();
  }
  const size_t want =
      StateHasSecret(e.header.state) ? SecretKeySize(e.header.algorithm) : 0;
  if (secret->size() != want) {
    return absl::DataLossError("record holds a secret of the wrong size");
  }
  return secret;
}

absl::StatusOr<KeyStore::Entry> KeyStore::Seal(
    const KeyRecordHeader& h, const crypto::SecretBytes& secret) const {
  KEYS_RETURN_IF_ERROR(ValidateHeader(h));
  auto sealed = wrap_.Seal(secret.view(), crypto::AsBytes(EncodeHeader(h)));
  if (!sealed.ok()) return sealed.status();
  return Entry{h, *std::move(sealed)};
}

absl::Status KeyStore::WriteEntry(const Entry& e) const {
  return dir_.WriteFileAtomic(RecordFileName(e.header),
                              EncodeKeyRecord(KeyRecord{e.header, e.sealed}),
                              kFileMode);
}

absl::StatusOr<KeyInfo> KeyStore::AddKey(std::string_view name,
                                         KeyAlgorithm algorithm,
                                         crypto::Purpose purpose,
                                         const crypto::SecretBytes& secret,
                                         uint32_t generation) {
  KEYS_RETURN_IF_ERROR(ValidateKeyName(name));
  KEYS_RETURN_IF_ERROR(CheckAlgorithmPurpose(algorithm, purpose));
  KEYS_RETURN_IF_ERROR(
      crypto::CheckAllowed(purpose, CryptoAlgorithm(algorithm)));
  if (entries_.size() >= kMaxKeysPerStore) {
    return absl::ResourceExhaustedError(
        internal::Cat("keys: the store holds ", kMaxKeysPerStore, " keys"));
  }
  auto pk = DerivePublic(algorithm, purpose, secret);
  if (!pk.ok()) return pk.status();
  if (auto fp = Fingerprint(crypto::ByteView(*pk)); !fp.ok()) {
    return fp.status();
  }
  for (const auto& [id, e] : entries_) {
    if (e.header.public_key == *pk) {
      return absl::AlreadyExistsError(
          internal::Cat("keys: this key is already in the store as ", id));
    }
  }
  auto now = NowSeconds();
  if (!now.ok()) return now.status();
  KeyRecordHeader h;
  h.algorithm = algorithm;
  h.purpose = purpose;
  h.state = KeyState::kActive;
  do {
    crypto::RandomFill(absl::MakeSpan(h.key_id));
  } while (entries_.count(Hex(crypto::ByteView(h.key_id.data(), kKeyIdSize))) !=
           0);
  h.generation = generation;
  h.created_at = *now;
  h.public_key = *std::move(pk);
  h.name = std::string(name);
  auto entry = Seal(h, secret);
  if (!entry.ok()) return entry.status();
  KEYS_RETURN_IF_ERROR(WriteEntry(*entry));
  const std::string id = Hex(crypto::ByteView(h.key_id.data(), kKeyIdSize));
  entries_.emplace(id, *std::move(entry));
  return ToInfo(h);
}

absl::Status KeyStore::ChangeState(const std::string& id_hex, KeyState to,
                                   int64_t now) {
  const Entry& old = entries_.at(id_hex);
  KeyRecordHeader h = old.header;
  h.state = to;
  switch (to) {
    case KeyState::kRotated:
      h.rotated_at = now;
      break;
    case KeyState::kRetired:
      h.retired_at = now;
      break;
    case KeyState::kRevoked:
      h.revoked_at = now;
      break;
    case KeyState::kActive:
      return absl::InternalError("keys: no key becomes active again");
  }
  crypto::SecretBytes secret;
  if (StateHasSecret(to)) {
    auto s = OpenSecret(old);
    if (!s.ok()) return s.status();
    secret = *std::move(s);
  }
  auto entry = Seal(h, secret);
  if (!entry.ok()) return entry.status();
  KEYS_RETURN_IF_ERROR(WriteEntry(*entry));
  entries_[id_hex] = *std::move(entry);
  return absl::OkStatus();
}

absl::StatusOr<KeyInfo> KeyStore::Generate(std::string_view name,
                                           KeyAlgorithm algorithm,
                                           crypto::Purpose purpose) {
  if (algorithm != KeyAlgorithm::kEd25519 &&
      algorithm != KeyAlgorithm::kX25519) {
    return absl::InvalidArgumentError("keys: unknown algorithm");
  }
  const crypto::SecretBytes secret =
      crypto::RandomSecret(SecretKeySize(algorithm));
  return Import(name, algorithm, purpose, secret);
}

absl::StatusOr<KeyInfo> KeyStore::Import(std::string_view name,
                                         KeyAlgorithm algorithm,
                                         crypto::Purpose purpose,
                                         const crypto::SecretBytes& secret) {
  absl::MutexLock lock(&mu_);
  for (const auto& [id, e] : entries_) {
    if (e.header.name == name) {
      return absl::AlreadyExistsError(internal::Cat(
          "keys: name \"", name, "\" already has keys; use Rotate"));
    }
  }
  return AddKey(name, algorithm, purpose, secret, 1);
}

absl::StatusOr<KeyInfo> KeyStore::Rotate(std::string_view name) {
  absl::MutexLock lock(&mu_);
  const Entry* newest = nullptr;
  std::vector<std::string> active;
  for (const auto& [id, e] : entries_) {
    if (e.header.name != name) continue;
    if (newest == nullptr || e.header.generation > newest->header.generation) {
      newest = &e;
    }
    if (e.header.state == KeyState::kActive) active.push_back(id);
  }
  if (newest == nullptr) {
    return absl::NotFoundError(
        internal::Cat("keys: no key named \"", name, "\""));
  }
  if (newest->header.generation == UINT32_MAX) {
    return absl::ResourceExhaustedError("keys: generation counter exhausted");
  }
  const KeyAlgorithm algorithm = newest->header.algorithm;
  const crypto::SecretBytes secret =
      crypto::RandomSecret(SecretKeySize(algorithm));
  // The new key is written first: a crash in between leaves two active keys,
  // which Open resolves in favour of the newer generation.
  auto info = AddKey(name, algorithm, newest->header.purpose, secret,
                     newest->header.generation + 1);
  if (!info.ok()) return info.status();
  const int64_t now = absl::ToUnixSeconds(info->created_at);
  for (const std::string& id : active) {
    if (absl::Status s = ChangeState(id, KeyState::kRotated, now); !s.ok()) {
      return Annotate(s, internal::Cat("keys: new key ", info->key_id,
                                       " is written but demoting ", id,
                                       " failed (the store repairs this "
                                       "when next opened)"));
    }
  }
  return info;
}

absl::Status KeyStore::Revoke(std::string_view key_id) {
  KEYS_RETURN_IF_ERROR(CheckKeyIdText(key_id));
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(std::string(key_id));
  if (it == entries_.end()) {
    return absl::NotFoundError(internal::Cat("keys: no key ", key_id));
  }
  if (it->second.header.state == KeyState::kRevoked) {
    return absl::FailedPreconditionError(
        internal::Cat("keys: key ", key_id, " was already revoked at ",
                      DescribeTime(it->second.header.revoked_at)));
  }
  auto now = NowSeconds();
  if (!now.ok()) return now.status();
  return ChangeState(it->first, KeyState::kRevoked, *now);
}

absl::Status KeyStore::Retire(std::string_view key_id) {
  KEYS_RETURN_IF_ERROR(CheckKeyIdText(key_id));
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(std::string(key_id));
  if (it == entries_.end()) {
    return absl::NotFoundError(internal::Cat("keys: no key ", key_id));
  }
  if (it->second.header.state != KeyState::kRotated) {
    return absl::FailedPreconditionError(internal::Cat(
        "keys: key ", key_id, " is ", KeyStateName(it->second.header.state),
        "; only a rotated key can be retired"));
  }
  auto now = NowSeconds();
  if (!now.ok()) return now.status();
  return ChangeState(it->first, KeyState::kRetired, *now);
}

absl::StatusOr<KeyInfo> KeyStore::Get(std::string_view key_id) const {
  KEYS_RETURN_IF_ERROR(CheckKeyIdText(key_id));
  absl::ReaderMutexLock lock(&mu_);
  auto it = entries_.find(std::string(key_id));
  if (it == entries_.end()) {
    return absl::NotFoundError(internal::Cat("keys: no key ", key_id));
  }
  return ToInfo(it->second.header);
}

absl::StatusOr<KeyInfo> KeyStore::ActiveKey(std::string_view name) const {
  absl::ReaderMutexLock lock(&mu_);
  const Entry* best = nullptr;
  for (const auto& [id, e] : entries_) {
    if (e.header.name == name && e.header.state == KeyState::kActive &&
        (best == nullptr || e.header.generation > best->header.generation)) {
      best = &e;
    }
  }
  if (best == nullptr) {
    return absl::NotFoundError(
        internal::Cat("keys: no active key named \"", name, "\""));
  }
  return ToInfo(best->header);
}

std::vector<KeyInfo> KeyStore::List() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<KeyInfo> out;
  out.reserve(entries_.size());
  for (const auto& [id, e] : entries_) out.push_back(ToInfo(e.header));
  std::sort(out.begin(), out.end(), [](const KeyInfo& a, const KeyInfo& b) {
    return std::tie(a.name, a.generation) < std::tie(b.name, b.generation);
  });
  return out;
}

absl::StatusOr<const KeyStore::Entry*> KeyStore::FindUsable(
    std::string_view key_id, KeyAlgorithm algorithm, bool for_signing) const {
  KEYS_RETURN_IF_ERROR(CheckKeyIdText(key_id));
  auto it = entries_.find(std::string(key_id));
  if (it == entries_.end()) {
    return absl::NotFoundError(internal::Cat("keys: no key ", key_id));
  }
  const KeyRecordHeader& h = it->second.header;
  if (h.state == KeyState::kRevoked) {
    return absl::PermissionDeniedError(
        internal::Cat("keys: key ", key_id, " (", h.name, ") was revoked at ",
                      DescribeTime(h.revoked_at)));
  }
  if (h.state == KeyState::kRetired) {
    return absl::FailedPreconditionError(
        internal::Cat("keys: key ", key_id, " (", h.name, ") was retired at ",
                      DescribeTime(h.retired_at)));
  }
  if (h.algorithm != algorithm) {
    return absl::FailedPreconditionError(internal::Cat(
        "keys: key ", key_id, " is a ", KeyAlgorithmName(h.algorithm),
        " key, not ", KeyAlgorithmName(algorithm)));
  }
  if (for_signing && h.state != KeyState::kActive) {
    return absl::FailedPreconditionError(internal::Cat(
        "keys: key ", key_id, " (", h.name, ") was rotated at ",
        DescribeTime(h.rotated_at), "; only the active key signs"));
  }
  return &it->second;
}

absl::StatusOr<crypto::Ed25519PrivateKey> KeyStore::SigningKey(
    std::string_view key_id) const {
  auto e = FindUsable(key_id, KeyAlgorithm::kEd25519, /*for_signing=*/true);
  if (!e.ok()) return e.status();
  auto seed = OpenSecret(**e);
  if (!seed.ok()) return seed.status();
  auto key = crypto::Ed25519PrivateKey::FromSeed((*e)->header.purpose, *seed);
  if (!key.ok()) return key.status();
  if (!std::equal(
          key->public_key().bytes().begin(), key->public_key().bytes().end(),
          (*e)->header.public_key.begin(), (*e)->header.public_key.end())) {
    return absl::DataLossError("keys: secret does not match the public key");
  }
  return key;
}

absl::StatusOr<crypto::Ed25519Signature> KeyStore::Sign(
    std::string_view key_id, crypto::ByteView message) const {
  absl::ReaderMutexLock lock(&mu_);
  auto key = SigningKey(key_id);
  if (!key.ok()) return key.status();
  return key->Sign(message);
}

absl::StatusOr<crypto::SecretBytes> KeyStore::ExportEd25519Seed(
    std::string_view key_id) const {
  absl::ReaderMutexLock lock(&mu_);
  auto key = SigningKey(key_id);
  if (!key.ok()) return key.status();
  return key->seed().Clone();
}

absl::StatusOr<SignedBy> KeyStore::SignAsActive(
    std::string_view name, crypto::ByteView message) const {
  auto active = ActiveKey(name);
  if (!active.ok()) return active.status();
  auto sig = Sign(active->key_id, message);
  if (!sig.ok()) return sig.status();
  return SignedBy{active->key_id, *sig};
}

absl::Status KeyStore::Verify(std::string_view key_id, crypto::ByteView message,
                              crypto::ByteView signature) const {
  absl::ReaderMutexLock lock(&mu_);
  auto e = FindUsable(key_id, KeyAlgorithm::kEd25519, /*for_signing=*/false);
  if (!e.ok()) return e.status();
  auto pk = crypto::Ed25519PublicKey::FromBytes(
      crypto::ByteView((*e)->header.public_key));
  if (!pk.ok()) return pk.status();
  return pk->Verify((*e)->header.purpose, message, signature);
}

absl::StatusOr<crypto::SecretBytes> KeyStore::X25519SecretKey(
    std::string_view key_id) const {
  absl::ReaderMutexLock lock(&mu_);
  auto e = FindUsable(key_id, KeyAlgorithm::kX25519, /*for_signing=*/false);
  if (!e.ok()) return e.status();
  KEYS_RETURN_IF_ERROR(crypto::CheckAllowed(
      (*e)->header.purpose, CryptoAlgorithm(KeyAlgorithm::kX25519)));
  return OpenSecret(**e);
}

absl::StatusOr<BackupExport> KeyStore::ExportBackup() const {
  auto now = NowSeconds();
  if (!now.ok()) return now.status();
  std::vector<BackupEntry> entries;
  {
    absl::ReaderMutexLock lock(&mu_);
    entries.reserve(entries_.size());
    for (const auto& [id, e] : entries_) {
      auto secret = OpenSecret(e);
      if (!secret.ok()) return Annotate(secret.status(), id);
      entries.push_back(BackupEntry{e.header, *std::move(secret)});
    }
  }
  const crypto::SecretBytes payload = EncodeBackupPayload(entries);
  BackupFile file;
  crypto::RandomFill(absl::MakeSpan(file.backup_id));
  file.created_at = *now;
  crypto::SecretBytes backup_key = crypto::RandomSecret(crypto::Aead::kKeySize);
  auto aead = MakeAead(backup_key,
                       crypto::ByteView(file.backup_id.data(), kBackupIdSize),
                       kInfoBackup);
  if (!aead.ok()) return aead.status();
  auto sealed =
      aead->Seal(payload.view(), crypto::AsBytes(EncodeBackupPrefix(file)));
  if (!sealed.ok()) return sealed.status();
  file.sealed = *std::move(sealed);
  BackupExport out;
  out.file = EncodeBackupFile(file);
  if (out.file.size() > kMaxBackupBytes) {
    return absl::ResourceExhaustedError("keys: backup exceeds the size limit");
  }
  out.backup_key = std::move(backup_key);
  out.backup_id = Hex(crypto::ByteView(file.backup_id.data(), kBackupIdSize));
  out.key_count = entries.size();
  return out;
}

absl::StatusOr<size_t> KeyStore::RestoreBackup(
    std::string_view file, const crypto::SecretBytes& backup_key) {
  if (backup_key.size() != crypto::Aead::kKeySize) {
    return absl::InvalidArgumentError(
        internal::Cat("keys: backup key is ", backup_key.size(),
                      " bytes, want ", crypto::Aead::kKeySize));
  }
  auto outer = DecodeBackupFile(file);
  if (!outer.ok()) return outer.status();
  auto aead = MakeAead(backup_key,
                       crypto::ByteView(outer->backup_id.data(), kBackupIdSize),
                       kInfoBackup);
  if (!aead.ok()) return aead.status();
  auto payload =
      aead->Open(outer->sealed, crypto::AsBytes(EncodeBackupPrefix(*outer)));
  if (!payload.ok()) {
    if (absl::IsUnauthenticated(payload.status())) {
      return absl::UnauthenticatedError(
          "keys: the backup does not open: wrong backup key (check the "
          "shares) or the file was altered");
    }
    return payload.status();
  }
  auto entries = DecodeBackupPayload(payload->view());
  if (!entries.ok()) return entries.status();

  // Check every entry before writing anything.
  std::set<std::string> seen;
  for (const BackupEntry& b : *entries) {
    const std::string id =
        Hex(crypto::ByteView(b.header.key_id.data(), kKeyIdSize));
    if (!seen.insert(id).second) {
      return absl::InvalidArgumentError(
          internal::Cat("keys: the backup lists key ", id, " twice"));
    }
    if (StateHasSecret(b.header.state)) {
      auto pk = DerivePublic(b.header.algorithm, b.header.purpose, b.secret);
      if (!pk.ok()) return Annotate(pk.status(), id);
      if (*pk != b.header.public_key) {
        return absl::DataLossError(internal::Cat(
            "keys: backup entry ", id, ": secret does not match public key"));
      }
    }
  }

  absl::MutexLock lock(&mu_);
  struct Planned {
    std::string id;
    KeyRecordHeader header;
    const crypto::SecretBytes* secret;  // from the backup, or null
  };
  std::vector<Planned> plan;
  // name -> generation -> id, over the store and the planned additions.
  std::map<std::string, std::map<uint32_t, std::string>> generations;
  std::map<std::string, const KeyRecordHeader*> name_kind;
  for (const auto& [id, e] : entries_) {
    generations[e.header.name][e.header.generation] = id;
    name_kind.emplace(e.header.name, &e.header);
  }
  for (const BackupEntry& b : *entries) {
    const KeyRecordHeader& h = b.header;
    const std::string id = Hex(crypto::ByteView(h.key_id.data(), kKeyIdSize));
    auto it = entries_.find(id);
    if (it != entries_.end()) {
      const KeyRecordHeader& cur = it->second.header;
      if (cur.name != h.name || cur.algorithm != h.algorithm ||
          cur.purpose != h.purpose || cur.generation != h.generation ||
          cur.created_at != h.created_at || cur.public_key != h.public_key) {
        return absl::FailedPreconditionError(internal::Cat(
            "keys: backup key ", id, " differs from the store's key ", id));
      }
      if (h.state > cur.state) plan.push_back(Planned{id, h, &b.secret});
      continue;
    }
    auto kind = name_kind.find(h.name);
    if (kind != name_kind.end() && (kind->second->algorithm != h.algorithm ||
                                    kind->second->purpose != h.purpose)) {
      return absl::FailedPreconditionError(internal::Cat(
          "keys: backup key ", id, " of name \"", h.name,
          "\" has another algorithm or purpose than the store's keys"));
    }
    auto& gens = generations[h.name];
    if (auto g = gens.find(h.generation); g != gens.end()) {
      return absl::FailedPreconditionError(internal::Cat(
          "keys: backup key ", id, " and key ", g->second, " are both \"",
          h.name, "\" generation ", h.generation));
    }
    gens[h.generation] = id;
    name_kind.emplace(h.name, &h);
    plan.push_back(Planned{id, h, &b.secret});
  }
  if (entries_.size() + plan.size() > kMaxKeysPerStore) {
    return absl::ResourceExhaustedError("keys: too many keys after restore");
  }
  for (const Planned& p : plan) {
    auto entry = Seal(p.header, *p.secret);
    if (!entry.ok()) return entry.status();
    KEYS_RETURN_IF_ERROR(WriteEntry(*entry));
    entries_[p.id] = *std::move(entry);
  }
  KEYS_RETURN_IF_ERROR(RepairActive());
  return plan.size();
}

}  // namespace virtengine::keys
