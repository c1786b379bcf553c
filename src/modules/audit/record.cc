#include "src/modules/audit/record.h"

#include "absl/strings/str_cat.h"
#include "security/validate/identifier.h"
#include "security/validate/utf8.h"

namespace virtengine::audit {

namespace {

constexpr validate::IdentifierPattern kKind = {
    1,
    kMaxKindBytes,
    validate::kLower | validate::kDigit,
    "",
    validate::kLower | validate::kDigit,
    "_.-"};
constexpr validate::IdentifierPattern kDetailKey = {
    1,
    kMaxDetailKeyBytes,
    validate::kLower | validate::kDigit,
    "_",
    validate::kLower | validate::kDigit,
    "_.-"};

std::string S(std::string_view v) { return std::string(v); }

absl::Status ValidateNonEmptyText(const std::string& field,
                                  std::string_view value, size_t max) {
  if (value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": empty"));
  }
  return validate::ValidateText(field, value, max,
                                validate::ControlChars::kReject);
}

void PutU64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
}

void PutU32(std::string* out, size_t n) {
  const auto v = static_cast<uint32_t>(n);
  for (int i = 3; i >= 0; --i) {
    out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
}

void PutBytes(std::string* out, std::string_view b) {
  PutU32(out, b.size());
  out->append(b);
}

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool U64(uint64_t* v) {
    if (b_.size() - at_ < 8) return false;
    *v = 0;
    for (size_t i = 0; i < 8; ++i) {
      *v = (*v << 8) | static_cast<uint8_t>(b_[at_ + i]);
    }
    at_ += 8;
    return true;
  }
  bool U32(uint32_t* v) {
    if (b_.size() - at_ < 4) return false;
    *v = 0;
    for (size_t i = 0; i < 4; ++i) {
      *v = (*v << 8) | static_cast<uint8_t>(b_[at_ + i]);
    }
    at_ += 4;
    return true;
  }
  bool Bytes(std::string* out, size_t max) {
    uint32_t n = 0;
    if (!U32(&n) || n > max || b_.size() - at_ < n) return false;
    out->assign(b_.substr(at_, n));
    at_ += n;
    return true;
  }
  bool done() const { return at_ == b_.size(); }

 private:
  std::string_view b_;
  size_t at_ = 0;
};

}  // namespace

absl::Status ValidateKind(std::string_view field, std::string_view kind) {
  return validate::ValidateIdentifier(absl::StrCat(S(field), ".kind"), kind,
                                      kKind);
}

absl::Status ValidateSubject(std::string_view field, std::string_view subject) {
  return ValidateNonEmptyText(absl::StrCat(S(field), ".subject"), subject,
                              kMaxSubjectBytes);
}

absl::Status ValidateDigest(std::string_view field, std::string_view digest) {
  if (digest.size() != kDigestBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        S(field), ".digest: ", digest.size(), " bytes, want ", kDigestBytes));
  }
  return absl::OkStatus();
}

absl::Status ValidateRecord(std::string_view field, const Record& record) {
  if (absl::Status s = ValidateKind(field, record.kind); !s.ok()) return s;
  if (absl::Status s = ValidateSubject(field, record.subject); !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateNonEmptyText(absl::StrCat(S(field), ".actor"),
                                            record.actor, kMaxActorBytes);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateDigest(field, record.digest); !s.ok()) return s;
  if (record.details.size() > kMaxDetails) {
    return absl::InvalidArgumentError(
        absl::StrCat(S(field), ".details: ", record.details.size(),
                     " entries exceeds the limit of ", kMaxDetails));
  }
  for (const auto& [k, v] : record.details) {
    if (absl::Status s = validate::ValidateIdentifier(
            absl::StrCat(S(field), ".details key"), k, kDetailKey);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = validate::ValidateText(
            absl::StrCat(S(field), ".details[", k, "]"), v,
            kMaxDetailValueBytes, validate::ControlChars::kReject);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

std::string EncodeRecord(const Record& r) {
  std::string out;
  out.reserve(64 + r.kind.size() + r.subject.size() + r.actor.size() +
              r.digest.size());
  PutU64(&out, r.seq);
  PutU64(&out, r.height);
  PutBytes(&out, r.kind);
  PutBytes(&out, r.subject);
  PutBytes(&out, r.actor);
  PutBytes(&out, r.digest);
  PutU32(&out, r.details.size());
  for (const auto& [k, v] : r.details) {
    PutBytes(&out, k);
    PutBytes(&out, v);
  }
  return out;
}

absl::StatusOr<Record> DecodeRecord(std::string_view bytes) {
  const auto corrupt = [](std::string_view what) {
    return absl::DataLossError(
        absl::StrCat("audit: corrupt record: ", S(what)));
  };
  if (bytes.size() > kMaxRecordBytes) return corrupt("too long");
  Reader in(bytes);
  Record r;
  uint32_t n = 0;
  if (!in.U64(&r.seq) || !in.U64(&r.height) ||
      !in.Bytes(&r.kind, kMaxKindBytes) ||
      !in.Bytes(&r.subject, kMaxSubjectBytes) ||
      !in.Bytes(&r.actor, kMaxActorBytes) ||
      !in.Bytes(&r.digest, kDigestBytes) || !in.U32(&n)) {
    return corrupt("truncated");
  }
  if (n > kMaxDetails) return corrupt("too many details");
  std::string last;
  for (uint32_t i = 0; i < n; ++i) {
    std::string k;
    std::string v;
    if (!in.Bytes(&k, kMaxDetailKeyBytes) ||
        !in.Bytes(&v, kMaxDetailValueBytes)) {
      return corrupt("truncated detail");
    }
    if (i > 0 && k <= last) return corrupt("details not in key order");
    last = k;
    r.details.emplace(std::move(k), std::move(v));
  }
  if (!in.done()) return corrupt("trailing bytes");
  if (absl::Status s = ValidateRecord("record", r); !s.ok()) {
    return corrupt(std::string(s.message()));
  }
  return r;
}

absl::StatusOr<Head> ChainHead(const Head& previous,
                               std::string_view record_bytes) {
  absl::StatusOr<crypto::Sha256Stream> h =
      crypto::Sha256Stream::Create(crypto::Purpose::AUDIT_CHAIN);
  if (!h.ok()) return h.status();
  h->Update(crypto::AsBytes(kChainDomain));
  const uint8_t zero = 0;
  h->Update(crypto::ByteView(&zero, 1));
  h->Update(crypto::ByteView(previous.data(), previous.size()));
  h->Update(crypto::AsBytes(record_bytes));
  return h->Finish();
}

v1::AuditRecord ToProto(const Record& r) {
  v1::AuditRecord p;
  p.set_seq(r.seq);
  p.set_height(r.height);
  p.set_kind(r.kind);
  p.set_subject(r.subject);
  p.set_actor(r.actor);
  p.set_digest(r.digest);
  for (const auto& [k, v] : r.details) {
    v1::Detail* d = p.add_details();
    d->set_key(k);
    d->set_value(v);
  }
  return p;
}

absl::StatusOr<Record> FromProto(const v1::AuditRecord& p) {
  Record r;
  r.seq = p.seq();
  r.height = p.height();
  r.kind = p.kind();
  r.subject = p.subject();
  r.actor = p.actor();
  r.digest = p.digest();
  const std::string field = absl::StrCat("audit record ", p.seq());
  if (static_cast<size_t>(p.details_size()) > kMaxDetails) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".details: ", p.details_size(),
                     " entries exceeds the limit of ", kMaxDetails));
  }
  for (int i = 0; i < p.details_size(); ++i) {
    const v1::Detail& d = p.details(i);
    if (i > 0 && d.key() <= p.details(i - 1).key()) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".details: keys must be unique and sorted, at ", d.key()));
    }
    r.details.emplace(d.key(), d.value());
  }
  if (absl::Status s = ValidateRecord(field, r); !s.ok()) return s;
  return r;
}

}  // namespace virtengine::audit
