#include "security/keys/key_record.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "security/keys/internal_util.h"

namespace virtengine::keys {

namespace v1 = ::virtengine::security::crypto::v1;

namespace {

// Appends big-endian integers and raw bytes to a std::string.
class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}
  void U8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void U16(uint16_t v) {
    U8(static_cast<uint8_t>(v >> 8U));
    U8(static_cast<uint8_t>(v));
  }
  void U32(uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      U8(static_cast<uint8_t>(v >> static_cast<unsigned>(shift)));
    }
  }
  void U64(uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) {
      U8(static_cast<uint8_t>(v >> static_cast<unsigned>(shift)));
    }
  }
  void I64(int64_t v) { U64(static_cast<uint64_t>(v)); }
  void Raw(std::string_view s) { out_->append(s.data(), s.size()); }
  void Raw(crypto::ByteView b) { Raw(crypto::AsChars(b)); }

 private:
  std::string* out_;
};

// Reads big-endian integers and byte strings; every read is bounds-checked
// and the first failure names the field.
class Reader {
 public:
  Reader(std::string_view in, std::string_view what) : in_(in), what_(what) {}

  absl::Status Take(size_t n, std::string_view field, std::string_view* out) {
    if (in_.size() - pos_ < n) {
      return absl::InvalidArgumentError(internal::Cat(
          what_, ": truncated at offset ", pos_, " reading ", field, " (", n,
          " bytes wanted, ", in_.size() - pos_, " left)"));
    }
    *out = in_.substr(pos_, n);
    pos_ += n;
    return absl::OkStatus();
  }
  absl::Status U8(std::string_view field, uint8_t* v) {
    std::string_view b;
    if (absl::Status s = Take(1, field, &b); !s.ok()) return s;
    *v = static_cast<uint8_t>(b[0]);
    return absl::OkStatus();
  }
  absl::Status U16(std::string_view field, uint16_t* v) {
    uint64_t x = 0;
    if (absl::Status s = Uint(2, field, &x); !s.ok()) return s;
    *v = static_cast<uint16_t>(x);
    return absl::OkStatus();
  }
  absl::Status U32(std::string_view field, uint32_t* v) {
    uint64_t x = 0;
    if (absl::Status s = Uint(4, field, &x); !s.ok()) return s;
    *v = static_cast<uint32_t>(x);
    return absl::OkStatus();
  }
  absl::Status U64(std::string_view field, uint64_t* v) {
    return Uint(8, field, v);
  }
  // A timestamp: a signed 64-bit value that must not be negative.
  absl::Status Time(std::string_view field, int64_t* v) {
    uint64_t x = 0;
    if (absl::Status s = Uint(8, field, &x); !s.ok()) return s;
    if (x > static_cast<uint64_t>(INT64_MAX)) {
      return Error(internal::Cat(field, " is negative"));
    }
    *v = static_cast<int64_t>(x);
    return absl::OkStatus();
  }
  absl::Status Magic(std::string_view magic) {
    std::string_view b;
    if (absl::Status s = Take(magic.size(), "magic", &b); !s.ok()) return s;
    if (b != magic) {
      return Error(internal::Cat("bad magic (want \"", magic, "\")"));
    }
    uint8_t version = 0;
    if (absl::Status s = U8("version", &version); !s.ok()) return s;
    if (version != kFormatVersion) {
      return Error(internal::Cat("unsupported format version ", version));
    }
    return absl::OkStatus();
  }
  absl::Status End() const {
    if (pos_ != in_.size()) {
      return absl::InvalidArgumentError(
          internal::Cat(what_, ": ", in_.size() - pos_,
                        " trailing byte(s) at offset ", pos_));
    }
    return absl::OkStatus();
  }
  absl::Status Error(std::string_view message) const {
    return absl::InvalidArgumentError(internal::Cat(what_, ": ", message));
  }
  size_t pos() const { return pos_; }

 private:
  absl::Status Uint(size_t n, std::string_view field, uint64_t* v) {
    std::string_view b;
    if (absl::Status s = Take(n, field, &b); !s.ok()) return s;
    uint64_t x = 0;
    for (char c : b) x = (x << 8U) | static_cast<uint8_t>(c);
    *v = x;
    return absl::OkStatus();
  }

  std::string_view in_;
  std::string_view what_;
  size_t pos_ = 0;
};

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool IsKindChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

// "keys: <why>" from a shared check, restated as a record-format error.
absl::Status AsRecordError(const absl::Status& s) {
  absl::string_view m = s.message();
  if (absl::StartsWith(m, "keys: ")) m.remove_prefix(6);
  return absl::InvalidArgumentError(internal::Cat("key record: ", m));
}

absl::Status CheckKind(std::string_view kind) {
  if (kind.empty() || kind.size() > kMaxKekKindBytes) {
    return absl::InvalidArgumentError(
        internal::Cat("keystore meta: KEK kind is ", kind.size(),
                      " bytes, want 1..", kMaxKekKindBytes));
  }
  for (char c : kind) {
    if (!IsKindChar(c)) {
      return absl::InvalidArgumentError(
          "keystore meta: KEK kind has a character outside [a-z0-9-]");
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string KeyAlgorithmName(KeyAlgorithm a) {
  switch (a) {
    case KeyAlgorithm::kEd25519:
      return "ed25519";
    case KeyAlgorithm::kX25519:
      return "x25519";
  }
  return internal::Cat("algorithm#", static_cast<int>(a));
}

std::string KeyStateName(KeyState s) {
  switch (s) {
    case KeyState::kActive:
      return "active";
    case KeyState::kRotated:
      return "rotated";
    case KeyState::kRetired:
      return "retired";
    case KeyState::kRevoked:
      return "revoked";
  }
  return internal::Cat("state#", static_cast<int>(s));
}

size_t SecretKeySize(KeyAlgorithm a) {
  (void)a;
  return 32;
}

size_t PublicKeySize(KeyAlgorithm a) {
  (void)a;
  return 32;
}

absl::Status CheckAlgorithmPurpose(KeyAlgorithm algorithm,
                                   crypto::Purpose purpose) {
  switch (algorithm) {
    case KeyAlgorithm::kEd25519:
      if (purpose == v1::TX_SIGNATURE || purpose == v1::NODE_SIGNATURE ||
          purpose == v1::OPERATOR_SIGNATURE) {
        return absl::OkStatus();
      }
      break;
    case KeyAlgorithm::kX25519:
      if (purpose == v1::ENVELOPE) return absl::OkStatus();
      break;
    default:
      return absl::InvalidArgumentError(internal::Cat(
          "keys: unknown algorithm tag ", static_cast<int>(algorithm)));
  }
  return absl::InvalidArgumentError(internal::Cat(
      "keys: a ", KeyAlgorithmName(algorithm), " key cannot have ", "purpose ",
      crypto::PurposeName(purpose)));
}

absl::Status ValidateKeyName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(internal::Cat(
        "keys: key name is ", name.size(), " bytes, want 1..", kMaxNameBytes));
  }
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i])) {
      return absl::InvalidArgumentError(internal::Cat(
          "keys: key name has a character outside [a-z0-9._-] at offset ", i));
    }
  }
  if (name[0] == '.' || name[0] == '_' || name[0] == '-') {
    return absl::InvalidArgumentError(
        "keys: key name must start with a letter or digit");
  }
  return absl::OkStatus();
}

bool KeyRecordHeader::operator==(const KeyRecordHeader& o) const {
  return algorithm == o.algorithm && purpose == o.purpose && state == o.state &&
         key_id == o.key_id && generation == o.generation &&
         created_at == o.created_at && rotated_at == o.rotated_at &&
         retired_at == o.retired_at && revoked_at == o.revoked_at &&
         public_key == o.public_key && name == o.name;
}

bool StateHasSecret(KeyState state) {
  return state == KeyState::kActive || state == KeyState::kRotated;
}

absl::Status ValidateHeader(const KeyRecordHeader& h) {
  if (h.algorithm != KeyAlgorithm::kEd25519 &&
      h.algorithm != KeyAlgorithm::kX25519) {
    return absl::InvalidArgumentError(internal::Cat(
        "key record: unknown algorithm tag ", static_cast<int>(h.algorithm)));
  }
  if (absl::Status s = CheckAlgorithmPurpose(h.algorithm, h.purpose); !s.ok()) {
    return AsRecordError(s);
  }
  if (h.generation == 0) {
    return absl::InvalidArgumentError("key record: generation is 0");
  }
  if (h.created_at <= 0) {
    return absl::InvalidArgumentError("key record: created_at is not set");
  }
  if (h.rotated_at < 0 || h.retired_at < 0 || h.revoked_at < 0) {
    return absl::InvalidArgumentError("key record: negative timestamp");
  }
  if (h.public_key.size() != PublicKeySize(h.algorithm)) {
    return absl::InvalidArgumentError(
        internal::Cat("key record: public key is ", h.public_key.size(),
                      " bytes, want ", PublicKeySize(h.algorithm)));
  }
  if (absl::Status s = ValidateKeyName(h.name); !s.ok()) {
    return AsRecordError(s);
  }
  // Which timestamps a state carries (docs: "States").
  bool ok = false;
  switch (h.state) {
    case KeyState::kActive:
      ok = h.rotated_at == 0 && h.retired_at == 0 && h.revoked_at == 0;
      break;
    case KeyState::kRotated:
      ok = h.rotated_at > 0 && h.retired_at == 0 && h.revoked_at == 0;
      break;
    case KeyState::kRetired:
      ok = h.rotated_at > 0 && h.retired_at > 0 && h.revoked_at == 0;
      break;
    case KeyState::kRevoked:
      ok = h.revoked_at > 0 && (h.retired_at == 0 || h.rotated_at > 0);
      break;
    default:
      return absl::InvalidArgumentError(internal::Cat(
          "key record: unknown state ", static_cast<int>(h.state)));
  }
  if (!ok) {
    return absl::InvalidArgumentError(internal::Cat(
        "key record: timestamps do not fit state ", KeyStateName(h.state)));
  }
  return absl::OkStatus();
}

std::string EncodeHeader(const KeyRecordHeader& h) {
  std::string out;
  Writer w(&out);
  w.Raw(kRecordMagic);
  w.U8(kFormatVersion);
  w.U8(static_cast<uint8_t>(h.algorithm));
  w.U8(static_cast<uint8_t>(h.purpose));
  w.U8(static_cast<uint8_t>(h.state));
  w.Raw(crypto::ByteView(h.key_id.data(), h.key_id.size()));
  w.U32(h.generation);
  w.I64(h.created_at);
  w.I64(h.rotated_at);
  w.I64(h.retired_at);
  w.I64(h.revoked_at);
  w.U8(static_cast<uint8_t>(h.public_key.size()));
  w.Raw(crypto::ByteView(h.public_key));
  w.U8(static_cast<uint8_t>(h.name.size()));
  w.Raw(h.name);
  return out;
}

absl::StatusOr<KeyRecordHeader> DecodeHeaderPrefix(std::string_view in,
                                                   size_t* consumed) {
  Reader r(in, "key record");
  KEYS_RETURN_IF_ERROR(r.Magic(kRecordMagic));
  KeyRecordHeader h;
  uint8_t algorithm = 0;
  uint8_t purpose = 0;
  uint8_t state = 0;
  KEYS_RETURN_IF_ERROR(r.U8("algorithm", &algorithm));
  KEYS_RETURN_IF_ERROR(r.U8("purpose", &purpose));
  KEYS_RETURN_IF_ERROR(r.U8("state", &state));
  h.algorithm = static_cast<KeyAlgorithm>(algorithm);
  // Range-check before the cast: Purpose is a plain enum, and a value
  // outside its range may not be stored in it.
  if (!v1::Purpose_IsValid(purpose)) {
    return r.Error(internal::Cat("unknown purpose ", purpose));
  }
  h.purpose = static_cast<crypto::Purpose>(purpose);
  h.state = static_cast<KeyState>(state);
  std::string_view id;
  KEYS_RETURN_IF_ERROR(r.Take(kKeyIdSize, "key id", &id));
  std::memcpy(h.key_id.data(), id.data(), kKeyIdSize);
  KEYS_RETURN_IF_ERROR(r.U32("generation", &h.generation));
  KEYS_RETURN_IF_ERROR(r.Time("created_at", &h.created_at));
  KEYS_RETURN_IF_ERROR(r.Time("rotated_at", &h.rotated_at));
  KEYS_RETURN_IF_ERROR(r.Time("retired_at", &h.retired_at));
  KEYS_RETURN_IF_ERROR(r.Time("revoked_at", &h.revoked_at));
  uint8_t pk_len = 0;
  std::string_view pk;
  KEYS_RETURN_IF_ERROR(r.U8("public key length", &pk_len));
  KEYS_RETURN_IF_ERROR(r.Take(pk_len, "public key", &pk));
  h.public_key.assign(pk.begin(), pk.end());
  uint8_t name_len = 0;
  std::string_view name;
  KEYS_RETURN_IF_ERROR(r.U8("name length", &name_len));
  KEYS_RETURN_IF_ERROR(r.Take(name_len, "name", &name));
  h.name = std::string(name);
  KEYS_RETURN_IF_ERROR(ValidateHeader(h));
  *consumed = r.pos();
  return h;
}

size_t SealedSize(const KeyRecordHeader& h) {
  return kSealOverhead +
         (StateHasSecret(h.state) ? SecretKeySize(h.algorithm) : 0);
}

std::string EncodeKeyRecord(const KeyRecord& r) {
  std::string out = EncodeHeader(r.header);
  Writer w(&out);
  w.U16(static_cast<uint16_t>(r.sealed.size()));
  w.Raw(crypto::ByteView(r.sealed));
  return out;
}

absl::StatusOr<KeyRecord> DecodeKeyRecord(std::string_view bytes) {
  if (bytes.size() > kMaxRecordBytes) {
    return absl::InvalidArgumentError(internal::Cat(
        "key record: ", bytes.size(), " bytes, longer than ", kMaxRecordBytes));
  }
  KeyRecord rec;
  size_t used = 0;
  auto h = DecodeHeaderPrefix(bytes, &used);
  if (!h.ok()) return h.status();
  rec.header = *std::move(h);
  Reader r(bytes.substr(used), "key record");
  uint16_t sealed_len = 0;
  std::string_view sealed;
  KEYS_RETURN_IF_ERROR(r.U16("sealed length", &sealed_len));
  if (sealed_len != SealedSize(rec.header)) {
    return absl::InvalidArgumentError(internal::Cat(
        "key record: sealed secret is ", sealed_len, " bytes, want ",
        SealedSize(rec.header), " (", KeyAlgorithmName(rec.header.algorithm),
        " key, state ", KeyStateName(rec.header.state), ")"));
  }
  KEYS_RETURN_IF_ERROR(r.Take(sealed_len, "sealed secret", &sealed));
  KEYS_RETURN_IF_ERROR(r.End());
  rec.sealed.assign(sealed.begin(), sealed.end());
  return rec;
}

std::string EncodeMetaPrefix(const StoreMeta& m) {
  std::string out;
  Writer w(&out);
  w.Raw(kMetaMagic);
  w.U8(kFormatVersion);
  w.Raw(crypto::ByteView(m.store_id.data(), m.store_id.size()));
  w.U8(static_cast<uint8_t>(m.kek_kind.size()));
  w.Raw(m.kek_kind);
  w.U16(static_cast<uint16_t>(m.kek_params.size()));
  w.Raw(m.kek_params);
  return out;
}

std::string EncodeStoreMeta(const StoreMeta& m) {
  std::string out = EncodeMetaPrefix(m);
  Writer(&out).Raw(crypto::ByteView(m.kek_check));
  return out;
}

absl::StatusOr<StoreMeta> DecodeStoreMeta(std::string_view bytes) {
  if (bytes.size() > kMaxMetaBytes) {
    return absl::InvalidArgumentError(
        internal::Cat("keystore meta: ", bytes.size(), " bytes, longer than ",
                      kMaxMetaBytes));
  }
  Reader r(bytes, "keystore meta");
  KEYS_RETURN_IF_ERROR(r.Magic(kMetaMagic));
  StoreMeta m;
  std::string_view b;
  KEYS_RETURN_IF_ERROR(r.Take(kStoreIdSize, "store id", &b));
  std::memcpy(m.store_id.data(), b.data(), kStoreIdSize);
  uint8_t kind_len = 0;
  KEYS_RETURN_IF_ERROR(r.U8("KEK kind length", &kind_len));
  KEYS_RETURN_IF_ERROR(r.Take(kind_len, "KEK kind", &b));
  m.kek_kind = std::string(b);
  KEYS_RETURN_IF_ERROR(CheckKind(m.kek_kind));
  uint16_t params_len = 0;
  KEYS_RETURN_IF_ERROR(r.U16("KEK params length", &params_len));
  if (params_len > kMaxKekParamsBytes) {
    return r.Error(internal::Cat("KEK params are ", params_len,
                                 " bytes, more than ", kMaxKekParamsBytes));
  }
  KEYS_RETURN_IF_ERROR(r.Take(params_len, "KEK params", &b));
  m.kek_params = std::string(b);
  KEYS_RETURN_IF_ERROR(r.Take(kSealOverhead, "KEK check", &b));
  m.kek_check.assign(b.begin(), b.end());
  KEYS_RETURN_IF_ERROR(r.End());
  return m;
}

std::string EncodeBackupPrefix(const BackupFile& b) {
  std::string out;
  Writer w(&out);
  w.Raw(kBackupMagic);
  w.U8(kFormatVersion);
  w.Raw(crypto::ByteView(b.backup_id.data(), b.backup_id.size()));
  w.I64(b.created_at);
  return out;
}

std::string EncodeBackupFile(const BackupFile& b) {
  std::string out = EncodeBackupPrefix(b);
  Writer w(&out);
  w.U32(static_cast<uint32_t>(b.sealed.size()));
  w.Raw(crypto::ByteView(b.sealed));
  return out;
}

absl::StatusOr<BackupFile> DecodeBackupFile(std::string_view bytes) {
  if (bytes.size() > kMaxBackupBytes) {
    return absl::InvalidArgumentError(internal::Cat(
        "key backup: ", bytes.size(), " bytes, longer than ", kMaxBackupBytes));
  }
  Reader r(bytes, "key backup");
  KEYS_RETURN_IF_ERROR(r.Magic(kBackupMagic));
  BackupFile f;
  std::string_view b;
  KEYS_RETURN_IF_ERROR(r.Take(kBackupIdSize, "backup id", &b));
  std::memcpy(f.backup_id.data(), b.data(), kBackupIdSize);
  KEYS_RETURN_IF_ERROR(r.Time("created_at", &f.created_at));
  if (f.created_at == 0) return r.Error("created_at is not set");
  uint32_t sealed_len = 0;
  KEYS_RETURN_IF_ERROR(r.U32("sealed length", &sealed_len));
  if (sealed_len < kSealOverhead) {
    return r.Error(internal::Cat("sealed payload is ", sealed_len,
                                 " bytes, shorter than ", kSealOverhead));
  }
  KEYS_RETURN_IF_ERROR(r.Take(sealed_len, "sealed payload", &b));
  KEYS_RETURN_IF_ERROR(r.End());
  f.sealed.assign(b.begin(), b.end());
  return f;
}

crypto::SecretBytes EncodeBackupPayload(const std::vector<BackupEntry>& e) {
  std::vector<std::string> headers;
  headers.reserve(e.size());
  size_t size = 4;
  for (const BackupEntry& entry : e) {
    headers.push_back(EncodeHeader(entry.header));
    size += 2 + headers.back().size() + 1 + entry.secret.size();
  }
  crypto::SecretBytes out(size);
  uint8_t* p = out.mutable_data();
  auto put_be = [&p](uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) {
      *p++ = static_cast<uint8_t>(v >> (8U * static_cast<unsigned>(i)));
    }
  };
  put_be(e.size(), 4);
  for (size_t i = 0; i < e.size(); ++i) {
    put_be(headers[i].size(), 2);
    p = std::copy(headers[i].begin(), headers[i].end(), p);
    put_be(e[i].secret.size(), 1);
    if (!e[i].secret.empty()) {
      std::memcpy(p, e[i].secret.data(), e[i].secret.size());
      p += e[i].secret.size();
    }
  }
  return out;
}

absl::StatusOr<std::vector<BackupEntry>> DecodeBackupPayload(
    crypto::ByteView bytes) {
  Reader r(crypto::AsChars(bytes), "key backup payload");
  uint32_t count = 0;
  KEYS_RETURN_IF_ERROR(r.U32("key count", &count));
  if (count > kMaxKeysPerStore) {
    return r.Error(
        internal::Cat("key count ", count, " exceeds ", kMaxKeysPerStore));
  }
  std::vector<BackupEntry> entries;
  for (uint32_t i = 0; i < count; ++i) {
    uint16_t header_len = 0;
    std::string_view header_bytes;
    KEYS_RETURN_IF_ERROR(r.U16("header length", &header_len));
    KEYS_RETURN_IF_ERROR(r.Take(header_len, "header", &header_bytes));
    size_t used = 0;
    auto h = DecodeHeaderPrefix(header_bytes, &used);
    if (!h.ok()) {
      return r.Error(internal::Cat("entry ", i, ": ", h.status().message()));
    }
    if (used != header_bytes.size()) {
      return r.Error(internal::Cat("entry ", i, ": header length mismatch"));
    }
    uint8_t secret_len = 0;
    std::string_view secret;
    KEYS_RETURN_IF_ERROR(r.U8("secret length", &secret_len));
    const size_t want =
        StateHasSecret(h->state) ? SecretKeySize(h->algorithm) : 0;
    if (secret_len != want) {
      return r.Error(internal::Cat("entry ", i, ": secret is ", secret_len,
                                   " bytes, want ", want));
    }
    KEYS_RETURN_IF_ERROR(r.Take(secret_len, "secret", &secret));
    BackupEntry entry;
    entry.header = *std::move(h);
    entry.secret = crypto::SecretBytes::CopyFrom(secret);
    entries.push_back(std::move(entry));
  }
  KEYS_RETURN_IF_ERROR(r.End());
  return entries;
}

}  // namespace virtengine::keys
